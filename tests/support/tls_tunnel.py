#!/usr/bin/env python3
"""TLS client tunnel for black-box tests: accepts plain TCP on 127.0.0.1:LISTEN and relays each
connection over TLS (Python ssl = OpenSSL; client certificate, server verified against a CA) to
127.0.0.1:TARGET. Lets a DCMTK tool without TLS support (movescu/getscu 3.6.7) talk to a DICOM
TLS port. Prints "ready" once listening; stops itself after --seconds.
usage: tls_tunnel.py LISTEN TARGET CA CERT KEY [--seconds N]"""
import socket, ssl, sys, threading, time

listen_port, target_port, ca, cert, key = int(sys.argv[1]), int(sys.argv[2]), *sys.argv[3:6]
seconds = int(sys.argv[sys.argv.index("--seconds") + 1]) if "--seconds" in sys.argv else 300
context = ssl.create_default_context(cafile=ca)
context.check_hostname = False  # DICOM TLS: the chain is verified, not a host name
context.minimum_version = ssl.TLSVersion.TLSv1_2
context.load_cert_chain(cert, key)


def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def serve(plain):
    try:
        raw = socket.create_connection(("127.0.0.1", target_port), timeout=30)
        secure = context.wrap_socket(raw, server_hostname="127.0.0.1")
        secure.settimeout(None)
    except OSError as e:
        print(f"tunnel: TLS connection failed: {e}", file=sys.stderr, flush=True)
        plain.close()
        return
    threading.Thread(target=pump, args=(secure, plain), daemon=True).start()
    pump(plain, secure)


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
