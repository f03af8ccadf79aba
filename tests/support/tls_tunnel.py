#!/usr/bin/env python3
"""TLS client tunnel for black-box tests: accepts plain TCP on 127.0.0.1:LISTEN and relays each
connection over TLS (Python ssl = OpenSSL; client certificate, server verified against a CA) to
127.0.0.1:TARGET. Lets a DCMTK tool without TLS support (movescu/getscu 3.6.7) talk to a DICOM
TLS port. Prints "ready" once listening; stops itself after --seconds.
usage: tls_tunnel.py LISTEN TARGET CA CERT KEY [--seconds N]"""
import select, socket, ssl, sys, threading, time

listen_port, target_port, ca, cert, key = int(sys.argv[1]), int(sys.argv[2]), *sys.argv[3:6]
seconds = int(sys.argv[sys.argv.index("--seconds") + 1]) if "--seconds" in sys.argv else 300
context = ssl.create_default_context(cafile=ca)
context.check_hostname = False  # DICOM TLS: the chain is verified, not a host name
context.minimum_version = ssl.TLSVersion.TLSv1_2
context.load_cert_chain(cert, key)


def send_secure(secure, data):
    """sendall() for the non-blocking TLS socket."""
    view = memoryview(data)
    while view:
        try:
            view = view[secure.send(view):]
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            select.select([secure], [secure], [], 1)


def relay(plain, secure):
    """Both directions on ONE thread: an ssl.SSLSocket (one OpenSSL SSL object) must not be
    read and written by two threads at once. The TLS socket is non-blocking, so a record that
    carries no data (a TLS 1.3 session ticket) never blocks the other direction; bytes OpenSSL
    already decrypted (pending()) are relayed before waiting in select() again."""
    secure.setblocking(False)
    try:
        while True:
            readable = [secure] if secure.pending() else select.select([plain, secure], [], [])[0]
            if plain in readable:
                data = plain.recv(65536)
                if not data:
                    return
                send_secure(secure, data)
            if secure in readable:
                try:
                    data = secure.recv(65536)
                except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                    continue
                if not data:
                    return
                plain.sendall(data)
    except (OSError, ValueError):
        pass
    finally:
        for s in (plain, secure):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()


def serve(plain):
    try:
        raw = socket.create_connection(("127.0.0.1", target_port), timeout=30)
        secure = context.wrap_socket(raw, server_hostname="127.0.0.1")
    except OSError as e:
        print(f"tunnel: TLS connection failed: {e}", file=sys.stderr, flush=True)
        plain.close()
        return
    relay(plain, secure)


server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", listen_port))
server.listen(8)
server.settimeout(1)
print("ready", flush=True)
deadline = time.time() + seconds
while time.time() < deadline:
    try:
        conn, _ = server.accept()
    except socket.timeout:
        continue
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
