"""Runs the Schemathesis command line (`schemathesis run ...`), working around a CPython 3.11 bug.

CPython 3.11 up to 3.11.7 (this machine's) can raise `SystemError: AST constructor recursion
depth mismatch` from `ast.parse` deep in a call stack. Hypothesis parses a lambda's source only
to print a description of it, so such a failure is given the description Hypothesis itself uses
for a lambda whose source it cannot find, instead of ending the whole operation's test.
"""

import re
import sys

from hypothesis.internal import lambda_sources
from schemathesis.cli import schemathesis

_describe = lambda_sources._lambda_description


def _describe_or_unknown(f, *args, **kwargs):
    try:
        return _describe(f, *args, **kwargs)
    except SystemError:
        return "lambda: <unknown>"


lambda_sources._lambda_description = _describe_or_unknown

if __name__ == "__main__":
    sys.argv[0] = re.sub(r"(-script\.pyw|\.exe)?$", "", sys.argv[0])
    sys.exit(schemathesis())
