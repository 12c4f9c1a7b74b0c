"""The ombudsman's replay: one address's verified history, step by step, on both time axes.

Pure parts (functions of the event list): `history` (cut-offs, corrections), `timeline`,
`diff`, `findings`, `steps`, `report`, `bundle`. Rendering: `render_text`, `render_md`,
`render_html`. Reading the store: `source`. HTTP: `http` (an APIRouter).
"""
