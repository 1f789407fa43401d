"""Checking guests in at the door: check-in codes and their QR codes, the desk, attendance."""
