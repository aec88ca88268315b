"""The smallest Flask app worth comparing with: one page of about the form's size, no templates, no I/O."""

from flask import Flask

app = Flask(__name__)
PAGE = "<!doctype html><title>x</title>" + "<p>" + "x" * 9000 + "</p>"


@app.get("/")
def page():
    return PAGE
