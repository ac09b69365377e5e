import http.client
import socket
import urllib.request
from urllib.request import urlopen

import requests


def positives(url: str) -> None:
    # ruleid: network-call-without-timeout
    urllib.request.urlopen(url)
    # ruleid: network-call-without-timeout
    urlopen(urllib.request.Request(url, method="POST"))
    # ruleid: network-call-without-timeout
    requests.get(url)
    # ruleid: network-call-without-timeout
    http.client.HTTPSConnection("example.invalid")
    # ruleid: network-call-without-timeout
    socket.create_connection(("127.0.0.1", 8000))


def negatives(url: str, seconds: float) -> None:
    # ok: network-call-without-timeout
    urllib.request.urlopen(url, timeout=seconds)
    # ok: network-call-without-timeout
    requests.post(url, json={}, timeout=5)
    # ok: network-call-without-timeout
    http.client.HTTPConnection("127.0.0.1", 8000, timeout=2)
    # ok: network-call-without-timeout
    socket.create_connection(("127.0.0.1", 8000), timeout=1)
    # ok: network-call-without-timeout
    requests.Session()
    # ok: network-call-without-timeout
    socket.create_connection(("127.0.0.1", 8000), seconds)
    # ok: network-call-without-timeout
    urlopen(url, None, seconds)
