"""A generated world with its chats and e-mails, both imported into a fresh workspace: what the tests of
the chat channel (conversations, the deal page) start from."""

from __future__ import annotations

from pathlib import Path


def imported_chat_world(root: Path, settings, world: dict, chat_seed: int):
    """``(settings, workspace, catalog)``: the world of spec ``world`` under ``root/world``, its chats under
    ``root/chats`` (``chat_truth.json`` there), CRM records and chats imported into ``root/ws``."""
    from talktrack.core.catalog import open_catalog
    from talktrack.core.workspace import Workspace
    from talktrack.evaluation.world import WorldSpec, generate_world
    from talktrack.evaluation.world_chats import generate_chats
    from talktrack.pipelines.chat_import import import_chats
    from talktrack.pipelines.crm_import import import_directory

    generate_world(WorldSpec(**world), root / "world")
    generate_chats(root / "world", root / "chats", seed=chat_seed, voice=0, gap_h=settings.import_.chat_gap_h,
                   stage_questions={stage.key: tuple(stage.key_questions) for stage in settings.stages})
    settings = settings.model_copy(update={"workspace": root / "ws"})
    workspace = Workspace.at(root / "ws").ensure()
    catalog = open_catalog(workspace.catalog_url)
    import_directory(catalog, settings, root / "world")
    import_chats(catalog, settings, root / "chats", files_dir=root / "files")
    return settings, workspace, catalog
