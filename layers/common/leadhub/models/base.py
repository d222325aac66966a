"""The base of every Leadhub pydantic model."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class DeferredModel(BaseModel):
    """A model whose validator and serializer are built when it is first used, not when its module is
    imported: a handler imports far more models than one invocation touches (the API's bodies of every
    route and vendor, the settings of all four vendors), and building them all cost every cold start
    ~60 ms of the API's import. Subclasses' own `model_config` merges with this one."""

    model_config = ConfigDict(defer_build=True)
