"""The sandbox: a moto extension for the ECR APIs moto lacks, simulated pulls, and --sandbox.

Importing this package imports nothing heavy; moto is only needed by the modules inside it.
"""
