"""The data commands of ``suite``: ``cache ls|clear`` (the decoded-data cache) and ``prefetch SPEC``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from suite.cli.app import app
from suite.cli.app import out_console as _out

cache_app = typer.Typer(no_args_is_help=True, help="The decoded-data cache ($TLBENCH_CACHE, default ~/.cache/tlbench).")


@cache_app.command("ls")
def cache_ls() -> None:
    """List the decoded datasets in the cache, one line each."""
    from suite.data.decoded_cache import cache_root, list_entries

    entries = list_entries()
    root = cache_root()
    where = root / "decoded" if root else "nowhere (TLBENCH_CACHE turns the cache off)"
    _out.print(f"{len(entries)} cached dataset(s) in {where}", highlight=False, markup=False, soft_wrap=True)
    for entry in entries:
        meta, identity = entry.meta, entry.meta.get("identity", {})
        shape = "x".join(str(n) for n in meta.get("image_shape", []))
        line = f"{entry.key}  {identity.get('source')} {identity.get('path')}  {meta.get('images')} images {shape}"
        size = f"{entry.size_bytes / 2**20:.1f} MiB"
        _out.print(f"{line}  {size}  {meta.get('created', '')}", highlight=False, markup=False, soft_wrap=True)


@cache_app.command("clear")
def cache_clear() -> None:
    """Remove every cached dataset."""
    from suite.data.decoded_cache import clear

    removed, freed = clear()
    _out.print(f"removed {removed} cached dataset(s), {freed / 2**20:.1f} MiB", highlight=False)


@app.command()
def prefetch(
    spec: Annotated[Path, typer.Argument(help="Study file (TOML or YAML).")],
    overrides: Annotated[
        Optional[list[str]],  # noqa: UP045 - typer needs Optional
        typer.Option("--set", help="Override a key in every run, e.g. --set dataset.path=/data (repeatable)."),
    ] = None,
    offline: Annotated[bool, typer.Option("--offline", help="Download nothing; only list.")] = False,
) -> None:
    """Download the study's datasets into the frameworks' caches; list what is present and missing."""
    from suite.cli.spec_loading import load_or_exit
    from suite.preflight.prefetch import prefetch as prefetch_needs

    study = load_or_exit(spec, overrides)
    needs = prefetch_needs(study.runs, offline)
    for need in needs:
        _out.print(need.line(), highlight=False, markup=False, soft_wrap=True)
    present = [path for need in needs if need.status == "present" for path in need.paths]
    if present:
        _out.print("copy to an offline machine (same locations):", highlight=False)
        for path in dict.fromkeys(present):
            _out.print(f"  {path}", highlight=False, markup=False, soft_wrap=True)
    if any(need.status == "missing" for need in needs):
        raise typer.Exit(code=1)


app.add_typer(cache_app, name="cache")
