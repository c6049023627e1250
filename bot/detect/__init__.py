"""Detectors of questions and complaints."""
