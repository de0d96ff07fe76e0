"""Grade a folder of submissions of one lab: a scores table and feedback per student.

    python tools/grade_labs.py --lab 01 SUBMISSIONS [--course _build/labs]
                               [--output _build/grades/01]
    make grade LAB=01 SUBMISSIONS=folder

SUBMISSIONS holds the students' notebooks, each named `<student>_NN.ipynb` (for
lab 01: `alice_01.ipynb`), alone or inside zip files, in any sub-folder, as they
come from a learning platform. The course folder is the one `make student`
wrote (tools/make_labs.py): the lab's source with its hidden tests, and the
gradebook of its release. Everything runs on this machine with nbgrader's own
commands, in order, and no server:

1. `zip_collect` files each student's notebook;
2. `autograde` runs it in a fresh kernel, in quick mode (AE_BOOK_QUICK=1), the
   chapter's cells as the student left them and the locked test cells as they
   were released, each with its hidden tests put back. A question gets its
   points when its test cell raises nothing, and 0 otherwise; a question that
   raises does not cost the others their points;
3. `generate_feedback` writes an HTML page per student: the notebook as it ran,
   with the points of each question and the messages of the tests that failed,
   never the hidden tests' code.

It writes into the output folder (default _build/grades/NN), which it replaces:

    scores.csv             one row per student: the points of each question
                           (columns NN-exK), the total, the maximum, and a note
                           when a submission could not be graded
    feedback/<student>.html
    nbgrader/              nbgrader's working folder: the collected submissions,
                           the graded notebooks (autograded/), the gradebook and
                           the kernels' log (kernels.log)

and prints the table. Exit status: 0 when every submission was graded, 1 when
one could not be (its row says why, with no points) or nothing could be graded.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import logging
import os
import re
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_labs  # noqa: E402

ROOT = make_labs.ROOT
# nbgrader warns about these for every submission: expected, since the released
# test cells lack the hidden tests that autograde puts back.
EXPECTED_WARNINGS = ("Attribute 'checksum' for cell", "Config option "
                     "`display_data_priority` not recognized")


class GradingProblem(Exception):
    """What stops grading, explained to the teacher in one line a problem."""

    def __init__(self, messages):
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        super().__init__("\n".join(self.messages))


def lab_name(text: str) -> str:
    """Return a lab's id from what a teacher types: "1", "01" -> "01"."""
    if not re.fullmatch(r"\d{1,2}", text.strip()):
        raise argparse.ArgumentTypeError(f"expected a chapter's number, such as 01, "
                                         f"got {text!r}")
    return f"{int(text):02d}"


def questions_of(course: Path, lab: str) -> list[tuple[str, float]]:
    """Return the lab's questions, (grade id, points) in the notebook's order."""
    source = course / "source" / lab / f"{lab}.ipynb"
    notebook = nbformat.read(source, as_version=4)
    questions = []
    for cell in notebook.cells:
        metadata = cell.metadata.get("nbgrader", {})
        if metadata.get("grade"):
            questions.append((metadata["grade_id"], float(metadata["points"])))
    return questions


def course_problems(course: Path, lab: str) -> list[str]:
    """Return why the course folder cannot grade the lab."""
    if not (course / "nbgrader_config.py").exists():
        return [f"{course} is not a course folder (no nbgrader_config.py): run "
                f"`make student` first, which writes it, or pass --course"]
    source = course / "source" / lab / f"{lab}.ipynb"
    missing = [path for path in (source, course / "release" / lab / f"{lab}.ipynb",
                                 course / "gradebook.db") if not path.exists()]
    if missing:
        labs = sorted(entry.name for entry in (course / "source").glob("[0-9][0-9]"))
        return [f"{course} has no lab {lab} ({missing[0].relative_to(course)} is "
                f"missing; its labs: {', '.join(labs) or 'none'}): run `make "
                f"student` first"]
    if not questions_of(course, lab):
        chapter = next(iter(sorted(make_labs.NOTEBOOKS.glob(f"{lab}_*.ipynb"))), None)
        grading = (make_labs.display_name(make_labs.grading_path(chapter))
                   if chapter else f"grading/{lab}_<chapter>.py")
        return [f"lab {lab} has no graded question: its chapter has no grading file "
                f"({grading}) when `make student` ran"]
    return []


def output_problems(output: Path, submissions: Path, course: Path) -> list[str]:
    if output.exists() and not output.is_dir():
        return [f"{output} exists and is not a folder; expected a folder for the "
                f"grades"]
    for folder, what in ((submissions, "submissions"), (course, "course folder"),
                         (ROOT, "project")):
        if output == folder or output in folder.parents or folder in output.parents:
            return [f"the output folder {output} and the {what} {folder} overlap; "
                    f"expected a folder of its own, such as _build/grades/NN"]
    if output.is_dir() and any(output.iterdir()) and not (
            (output / "scores.csv").exists() or (output / "nbgrader").is_dir()):
        return [f"{output} is not empty and holds no grades of this tool; expected "
                f"a new folder or one this tool wrote"]
    return []


def nbgrader_api(work: Path, lab: str):
    """Return nbgrader's API on the working folder, with the course's config."""
    from nbgrader.apps import NbGraderAPI
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(work)).load_config()
    config.CourseDirectory.root = str(work)
    config.NbGraderAPI.log_level = "WARN"
    # Only this lab's notebooks: alice_02.ipynb is not a submission of lab 01.
    config.FileNameCollectorPlugin.named_regexp = (
        rf".*/(?P<student_id>[^/]+)_(?P<file_id>{lab})\.ipynb$")
    return NbGraderAPI(config=config)


def warnings_of(result: dict) -> list[str]:
    """Return nbgrader's warnings and errors, but the expected ones."""
    return [line for line in result.get("log", "").splitlines()
            if line.startswith(("[WARNING]", "[ERROR]"))
            and not any(text in line for text in EXPECTED_WARNINGS)]


def failure(result: dict) -> str:
    """Return what went wrong, from nbgrader's log: the exception, if it names one."""
    log = result.get("log", "").splitlines()
    raised = [line for line in log
              if re.match(r"^[\w.]+(Error|Exception): ", line.strip())]
    errors = [line[len("[ERROR] "):] for line in log if line.startswith("[ERROR]")]
    lines = [line for line in (result.get("error") or "").splitlines() if line.strip()]
    return (raised[-1].strip() if raised else errors[0] if errors
            else lines[-1] if lines else "nbgrader failed")


def notebook_problem(path: Path) -> str | None:
    """Return why a submission is not a notebook nbgrader can read, or None."""
    try:
        nbformat.read(path, as_version=4)
    except Exception as error:  # Whatever a student's file holds.
        return f"not a notebook ({type(error).__name__}: " \
               f"{make_labs.shorten(error, 120)})"
    return None


@contextlib.contextmanager
def stderr_into(path: Path):
    """Send what this process and its children (the kernels) write to stderr to a file.

    The kernels inherit it: TensorFlow's start-up notices go there, not on the
    teacher's terminal.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with path.open("ab") as log:
        os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def collect(api, work: Path, lab: str) -> tuple[list[str], list[str]]:
    """Run nbgrader zip_collect; return the students and the files it skipped."""
    from nbgrader.apps import ZipCollectApp
    from nbgrader.utils import capture_log, temp_attrs

    with temp_attrs(api.coursedir, assignment_id=lab):
        app = ZipCollectApp(coursedir=api.coursedir, parent=api)
        # Its log goes to the result, not to the terminal: the files it skipped
        # are named below.
        app.log.handlers.clear()
        app.log.propagate = False
        result = capture_log(app)
    if not result["success"]:
        raise GradingProblem(f"nbgrader zip_collect failed: {failure(result)}")
    extracted = work / "downloaded" / lab / "extracted"
    pattern = re.compile(rf"^.+_{lab}\.ipynb$")
    skipped = sorted(str(path.relative_to(extracted)) for path in extracted.rglob("*")
                     if path.is_file() and not pattern.match(path.name)) \
        if extracted.is_dir() else []
    submitted = work / "submitted"
    students = sorted(entry.name for entry in submitted.iterdir()
                      if (entry / lab / f"{lab}.ipynb").exists()) \
        if submitted.is_dir() else []
    return students, skipped


def read_scores(api, lab: str, questions, students, notes) -> list[dict]:
    """Return one row per student from the gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    rows = []
    with Gradebook(api.coursedir.db_url, api.course_id) as gradebook:
        for student in students:
            row = {"student": student}
            for grade_id, _ in questions:
                try:
                    score = gradebook.find_grade(grade_id, lab, lab, student).score
                except MissingEntry:
                    score = None
                row[grade_id] = 0.0 if score is None else float(score)
            row["total"] = sum(row[grade_id] for grade_id, _ in questions)
            row["out of"] = sum(points for _, points in questions)
            row["note"] = notes.get(student, "")
            rows.append(row)
    return rows


def number(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def write_table(rows, questions, path: Path) -> str:
    """Write scores.csv; return the table as text for the terminal."""
    fields = ["student"] + [grade_id for grade_id, _ in questions] + [
        "total", "out of", "note"]
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fields)
        writer.writeheader()
        writer.writerows({key: number(value) for key, value in row.items()}
                         for row in rows)
    header = fields[:-1] if not any(row["note"] for row in rows) else fields
    cells = [header] + [[number(row[field]) for field in header] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(header))]
    return "\n".join("  ".join(text.ljust(width) for text, width in zip(line, widths))
                     .rstrip() for line in cells)


def prepare(work: Path, course: Path, lab: str, submissions: Path) -> None:
    """Lay out nbgrader's working folder: the course's lab, and the submissions."""
    work.mkdir()
    shutil.copy(course / "nbgrader_config.py", work / "nbgrader_config.py")
    shutil.copy(course / "gradebook.db", work / "gradebook.db")
    for step in ("source", "release"):
        shutil.copytree(course / step / lab, work / step / lab)
    archive = work / "downloaded" / lab / "archive"
    shutil.copytree(submissions, archive, ignore=shutil.ignore_patterns(
        ".ipynb_checkpoints", "__MACOSX", ".*"))


def grade(lab: str, submissions: Path, course: Path, output: Path) -> int:
    """Grade the lab's submissions into `output`; return the exit status."""
    problems = []
    if not submissions.is_dir():
        problems.append(f"{submissions}: no such folder; expected the folder of "
                        f"submissions (<student>_{lab}.ipynb files, or zip files)")
    problems += course_problems(course, lab)
    if problems:
        raise GradingProblem(problems)
    problems = output_problems(output, submissions, course)
    if problems:
        raise GradingProblem(problems)
    questions = questions_of(course, lab)
    # nbgrader runs `alembic` by name; the kernels inherit this environment: the
    # chapters train in quick mode and TensorFlow's C++ log stays quiet.
    os.environ["PATH"] = make_labs.nbgrader_environment()["PATH"]
    os.environ["AE_BOOK_QUICK"] = "1"
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    output.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{output.name}.new-", dir=output.parent))
    try:
        work = stage / "nbgrader"
        prepare(work, course, lab, submissions)
        print(f"grade_labs: collecting the submissions of lab {lab} in {submissions}",
              flush=True)
        api = nbgrader_api(work, lab)
        students, skipped = collect(api, work, lab)
        for name in skipped:
            print(f"grade_labs: skipped {name}: not named <student>_{lab}.ipynb",
                  file=sys.stderr)
        if not students:
            raise GradingProblem(f"{submissions} holds no submission of lab {lab}; "
                                 f"expected files named <student>_{lab}.ipynb, "
                                 f"alone or in zip files")
        notes = {}
        (stage / "feedback").mkdir()
        for number_, student in enumerate(students, 1):
            start = time.perf_counter()
            submitted = work / "submitted" / student / lab / f"{lab}.ipynb"
            problem = notebook_problem(submitted)
            if problem:
                notes[student] = f"not graded: {problem}"
            else:
                with stderr_into(work / "kernels.log"):
                    result = api.autograde(lab, student)
                    feedback = api.generate_feedback(lab, student) \
                        if result["success"] else None
                for line in warnings_of(result):
                    print(f"grade_labs: {student}: nbgrader: {line}", file=sys.stderr)
                page = work / "feedback" / student / lab / f"{lab}.html"
                if not result["success"]:
                    notes[student] = f"not graded: {failure(result)}"
                elif feedback["success"] and page.exists():
                    shutil.copy(page, stage / "feedback" / f"{student}.html")
                else:
                    notes[student] = f"no feedback: {failure(feedback)}"
            print(f"grade_labs: {number_}/{len(students)} {student} graded in "
                  f"{time.perf_counter() - start:.0f} s"
                  + (f" ({notes[student]})" if student in notes else ""), flush=True)
        rows = read_scores(api, lab, questions, students, notes)
        table = write_table(rows, questions, stage / "scores.csv")
        make_labs.swap_in(stage, output, [])
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    print(table)
    pages = len(list((output / "feedback").glob("*.html")))
    print(f"grade_labs: wrote {output / 'scores.csv'} and {pages} feedback pages "
          f"in {output / 'feedback'}")
    return 1 if notes else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("submissions", type=Path,
                        help="folder of <student>_NN.ipynb files or zip files")
    parser.add_argument("--lab", type=lab_name, required=True,
                        help="the chapter's number, e.g. 01")
    parser.add_argument("--course", type=Path, default=ROOT / "_build" / "labs",
                        help="the course folder of `make student` (default: "
                             "_build/labs)")
    parser.add_argument("--output", type=Path,
                        help="folder for the grades (default: _build/grades/NN)")
    args = parser.parse_args(argv)
    output = args.output or ROOT / "_build" / "grades" / args.lab
    # nbgrader's log would otherwise go to stderr through the root logger, with
    # warnings of its database and of nbconvert that say nothing to a teacher.
    logging.getLogger("traitlets").addHandler(logging.NullHandler())
    warnings.filterwarnings("ignore", message="Object of type <Submitted")
    warnings.filterwarnings("ignore", message="Your element with mimetype")
    try:
        return grade(args.lab, args.submissions.resolve(), args.course.resolve(),
                     output.resolve())
    except GradingProblem as problem:
        for message in problem.messages:
            print(f"grade_labs: error: {message}", file=sys.stderr)
        print("grade_labs: nothing graded.", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"grade_labs: error: {error.strerror or error} ({error.filename})",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
