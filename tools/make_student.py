"""Write the student version of every chapter: the release of the graded labs.

    python tools/make_student.py [--output _build/student] [notebooks ...]

The same as `python tools/make_labs.py` (`make student`), which nbgrader's
`generate_assignment` does the work of: each chapter goes to
`<output>/NN/NN.ipynb` with helpers.py and ae_blocks.py beside it, every
exercise's solution replaced by a cell to complete under the exercise's text,
the self-check after it kept. The teacher's course folder, with the hidden
tests, goes to `--course` (default _build/labs). See tools/make_labs.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_labs  # noqa: E402

if __name__ == "__main__":
    sys.exit(make_labs.main())
