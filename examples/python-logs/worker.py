"""A worker that prints as a person at a terminal would see it: colours, a progress bar,
and no flush — on a terminal, Python writes each line as soon as it ends."""
import sys
import time

GREEN, RESET = "\033[32m", "\033[0m"
colour = sys.stdout.isatty()

job = 0
while True:
    job += 1
    for percent in (25, 50, 75, 100):
        print(f"job {job}: {percent}%", end="\r")
        time.sleep(0.05)
    print()
    level = f"{GREEN}done{RESET}" if colour else "done"
    print(f"job {job} {level}")
    time.sleep(1)
