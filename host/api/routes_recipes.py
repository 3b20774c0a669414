"""The bundled recipes (the checkout's `recipes/` folder): ready test sequences to start with
POST /api/sequences once a rig is added."""

import asyncio
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path
from pydantic import BaseModel, Field

from host.api.deps import read_access
from host.api.responses import ErrorDetail
from host.sequences import recipes

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api")
RecipeName = Annotated[str, Path(max_length=recipes.NAME_MAX_LENGTH,
                                 pattern=recipes.NAME_PATTERN,
                                 description="the recipe's file name without its suffix, "
                                             "e.g. jvl-before-after (GET /api/recipes "
                                             "lists them)")]
NO_RECIPE: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorDetail, "description": "no bundled recipe of that name"},
    500: {"model": ErrorDetail, "description": "the recipe's file does not read (bad YAML "
                                               "or JSON, with its line)"}}


class RecipeView(BaseModel):
    """A bundled recipe: a test sequence without its rig."""

    name: str = Field(description="its file name without the suffix, e.g. jvl-before-after")
    title: str | None = Field(description="the recipe's own `name` (the sequence's name)")
    description: str = Field(description="what it does: its `description`, else the comment "
                                         "the file begins with")
    spec: dict[str, Any] = Field(description="the POST /api/sequences body without `rig` "
                                             "(the SequenceRequest schema): add the rig and "
                                             "send it")


class RecipeList(BaseModel):
    """The bundled recipes, by name."""

    recipes: list[RecipeView] = Field(description="every recipe that reads, by name")


def _view(recipe: recipes.Recipe) -> RecipeView:
    return RecipeView(name=recipe.name, title=recipe.title, description=recipe.description,
                      spec=recipe.spec)


@router.get("/recipes", dependencies=[Depends(read_access)], response_model=RecipeList)
async def list_recipes() -> RecipeList:
    """The bundled recipes, read from their files on each request (an edited file shows at
    once). A file that does not read is left out and logged."""
    found, errors = await asyncio.to_thread(recipes.bundled_recipes)
    for error in errors:
        log.warning("recipe left out: %s", error)
    return RecipeList(recipes=[_view(r) for r in found])


@router.get("/recipes/{name}", dependencies=[Depends(read_access)], response_model=RecipeView,
            responses=NO_RECIPE)
async def get_recipe(name: RecipeName) -> RecipeView:
    """One bundled recipe. Start it with POST /api/sequences: its `spec` plus `rig`."""
    try:
        recipe = await asyncio.to_thread(recipes.bundled_recipe, name)
    except recipes.RecipeNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except recipes.RecipeError as exc:
        raise HTTPException(500, str(exc)) from None
    return _view(recipe)
