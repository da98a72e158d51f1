"""Counts, shipments, collection rounds, purchase requests and slotting studies."""
