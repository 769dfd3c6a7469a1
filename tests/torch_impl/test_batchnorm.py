import torch
from torch import nn

from torch_impl.models.batchnorm import KerasBatchNorm2d


def test_train_mode_matches_torch_but_the_running_variance_takes_the_biased_batch_variance():
    torch.manual_seed(0)
    inputs = torch.randn(4, 3, 5, 5)
    keras_rule, torch_rule = KerasBatchNorm2d(3, momentum=0.01, eps=1.001e-5), nn.BatchNorm2d(3, 1.001e-5, 0.01)
    keras_out, torch_out = keras_rule(inputs), torch_rule(inputs)
    torch.testing.assert_close(keras_out, torch_out, rtol=1e-5, atol=1e-5)
    biased = inputs.var(dim=(0, 2, 3), unbiased=False)
    torch.testing.assert_close(keras_rule.running_var, 0.99 + 0.01 * biased)
    torch.testing.assert_close(keras_rule.running_mean, 0.01 * inputs.mean(dim=(0, 2, 3)))
    assert not torch.allclose(keras_rule.running_var, torch_rule.running_var)
    keras_rule.eval()
    stats = (keras_rule.running_mean, keras_rule.running_var, keras_rule.weight, keras_rule.bias)
    torch.testing.assert_close(keras_rule(inputs), nn.functional.batch_norm(inputs, *stats, eps=1.001e-5))


def test_gradients_flow_through_the_batch_statistics():
    inputs = torch.randn(4, 3, 5, 5, requires_grad=True)
    reference = inputs.detach().clone().requires_grad_(True)
    KerasBatchNorm2d(3)(inputs).pow(2).sum().backward()
    nn.BatchNorm2d(3)(reference).pow(2).sum().backward()
    torch.testing.assert_close(inputs.grad, reference.grad, rtol=1e-4, atol=1e-5)
