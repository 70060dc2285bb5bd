"""Keep our own processes from importing what they never use but pay for at every start.

jsonschema, when first imported, imports its optional IRI format checker `rfc3987_syntax`, which builds a lark
grammar at import: about 3 s of CPU on this project's machines, paid by every CLI command, check worker and notebook
node (papermill imports nbformat, which imports jsonschema). No schema we or nbformat check uses the `iri` formats,
so processes we start (the CLI, the node launcher, the check workers' forkserver) skip it by importing this module
before anything else: importing it is the switch. jsonschema then simply has no `iri` checker. In a process where
jsonschema is imported already (the Jupyter server) this changes nothing.
"""

from __future__ import annotations

import sys

SKIPPED_MODULES = ("rfc3987_syntax",)


for _name in SKIPPED_MODULES:  # unimportable from now on (None in sys.modules), unless imported already
    sys.modules.setdefault(_name, None)  # type: ignore[arg-type]
