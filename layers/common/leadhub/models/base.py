"""The base of every Leadhub pydantic model."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class DeferredModel(BaseModel):
    """A model whose validator and serializer are built when it is first used, not when its module is
    imported: a handler imports far more models than one invocation touches (the API's bodies of every
    route and vendor, the settings of all four vendors), and building them all cost every cold start
    ~60 ms of the API's import. Subclasses' own `model_config` merges with this one."""

    model_config = ConfigDict(defer_build=True)

    @classmethod
    def model_rebuild(
        cls, *, force: bool = False, raise_errors: bool = True, _parent_namespace_depth: int = 2, **options: Any
    ) -> bool | None:
        """Names resolve in the model's own module (and, for a model made in a function, the namespace
        pydantic kept when it was made), never in the frames of whoever first used it: pydantic's lazy
        build reads the `f_locals` of a caller five frames up, which crashes CPython 3.13.0 when that
        frame runs an inlined comprehension, and could only ever find unrelated names there."""
        return super().model_rebuild(force=force, raise_errors=raise_errors, _parent_namespace_depth=0, **options)
