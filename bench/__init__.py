"""Benchmarks of meetups: `make bench` or `python -m bench` (see README, "Benchmarks").

Every benchmark measures a baseline in the same run and prints the app's result as a ratio to
it, so that the numbers keep their meaning on a noisy or slow machine. The servers run as
separate processes on free ports with scratch databases; nothing is left behind.
"""
