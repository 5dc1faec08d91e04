"""Sum up py-spy's collapsed stacks (``--format raw``): the functions where the workers
spent their time, by their own samples and with what they call.

    .venv/bin/python bench/profile_report.py /tmp/logs/profile-statement_100000.txt --top 30
"""

import argparse
import re
from collections import Counter
from pathlib import Path

#: The project's folder, whose paths are shown from it.
ROOT = Path(__file__).resolve().parent.parent
#: py-spy's frame: "function (path/to/file.py:line)"; the line is dropped to sum by function.
FRAME = re.compile(r"^(?P<function>.*?) \((?P<file>[^:()]*)(?::\d+)?\)$")


def function_of(frame: str) -> str:
    match = FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    path = match["file"]
    for marker in ("site-packages/", f"{ROOT}/", "lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{match['function']} ({path})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--match", default="", help="only functions whose name has this")
    options = parser.parse_args()
    own, inclusive, total = Counter(), Counter(), 0
    for line in options.profile.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        samples = int(count)
        frames = [function_of(frame) for frame in stack.split(";")]
        # The worker's idle wait is not work.
        if any("wait" in frame and "gunicorn" in frame for frame in frames[-2:]):
            continue
        total += samples
        own[frames[-1]] += samples
        for function in set(frames):
            inclusive[function] += samples
    print(f"{total:,} samples of work\n")
    for title, counter in (("own time", own), ("with callees", inclusive)):
        print(f"-- {title} --")
        shown = [(f, n) for f, n in counter.most_common() if options.match in f][: options.top]
        for function, samples in shown:
            print(f"{samples / total * 100:6.1f}%  {function}")
        print()


if __name__ == "__main__":
    main()
