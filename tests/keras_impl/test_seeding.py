"""keras_impl.seeding: a warm worker's reset puts back what a run may leave in the process."""

import keras

from keras_impl.seeding import reset_process_state


def test_reset_puts_back_float32_and_a_new_session() -> None:
    keras.backend.clear_session()
    first = keras.layers.Dense(2)  # a run's first layer
    keras.config.set_floatx("float16")  # a run that left its precision behind
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        reset_process_state()
        assert keras.config.floatx() == "float32" and keras.config.dtype_policy().name == "float32"
        assert keras.layers.Dense(2).name == first.name  # the session's name counters started over
    finally:
        keras.config.set_floatx("float32")
        keras.config.set_dtype_policy("float32")
