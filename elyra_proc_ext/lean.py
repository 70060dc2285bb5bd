"""Keep our own processes from importing what they never use but pay for at every start.

jsonschema, when first imported, imports the optional libraries of its format checkers. The IRI one,
`rfc3987_syntax`, builds a lark grammar at import: about 3 s of CPU on this project's machines, paid by every CLI
command, check worker and notebook node (papermill imports nbformat, which imports jsonschema). The others
(URI, date-time, duration with arrow and dateutil, colours, URI templates, host names) cost another 0.1 to 0.2 s
together. We never check formats (no `format_checker` anywhere; nbformat checks none either), so the processes
we start (the CLI, the node launcher, the check workers' forkserver) skip them by importing this module before
anything else: importing it is the switch. jsonschema then simply has no checker for those formats. In a process
where they are imported already (the Jupyter server) this changes nothing.

Only libraries that nothing else we load imports are listed: `idna` and `jsonpointer`, which requests and others
use, are not.
"""

from __future__ import annotations

import sys

SKIPPED_MODULES = ("rfc3987_syntax", "rfc3987", "rfc3986_validator", "rfc3339_validator", "isoduration", "webcolors",
                   "uri_template", "fqdn")


for _name in SKIPPED_MODULES:  # unimportable from now on (None in sys.modules), unless imported already
    sys.modules.setdefault(_name, None)  # type: ignore[arg-type]
