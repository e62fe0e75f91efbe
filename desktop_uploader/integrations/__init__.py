"""Editor and screenshot-tool integrations: a local upload server that speaks the PicGo/PicList
protocol (``server``), the per-install token (``token``), the clipboard as a source
(``clipboard``), the glue to the engine (``uploads``) and ready-made snippets (``snippets``).

No Qt here; importing this package is cheap (``config`` imports ``settings`` from it).
"""
