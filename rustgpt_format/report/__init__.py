"""A checkpoint as one self-contained HTML page: what it holds, and what training changed."""

from rustgpt_format.report.content import Subject, architecture_difference
from rustgpt_format.report.page import render

__all__ = ["Subject", "architecture_difference", "render"]
