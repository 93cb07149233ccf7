"""``cpsdiag testssl-server``: a local HTTPS server that requires the card, like ANS's Test SSL page."""

from __future__ import annotations

from pathlib import Path

import click

from cpsdiag.cli.check import anchors_option
from cpsdiag.cli.common import PEM_FILE, HostType, debug_option, guarded, lang_option
from cpsdiag.stopping import Stopped, stop_on_signals


@click.command("testssl-server")
@click.option("--host", default="127.0.0.1", show_default=True, type=HostType(),
              help="Address to listen on (0.0.0.0 for a LAN, ::1 or :: for IPv6).")
@click.option("--port", default=8443, show_default=True, type=click.IntRange(0, 65535))
@anchors_option
@click.option("--no-bundled-anchors", is_flag=True, help="Do not trust the bundled IGC-Santé authorities.")
@click.option("--tls-versions", default="1.2,1.3", show_default=True,
              type=click.Choice(["1.2", "1.3", "1.2,1.3"]), help="TLS versions to accept.")
@click.option("--cert", type=PEM_FILE,
              help="Server certificate (PEM); default: an ephemeral one for the host.")
@click.option("--key", type=PEM_FILE, help="Its private key (PEM).")
@click.option("--ca-out", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Write the certificate clients must trust for this server (use it with --tls-ca).")
@lang_option
@debug_option
@guarded
def testssl_server(host: str, port: int, anchors: tuple[Path, ...], no_bundled_anchors: bool, tls_versions: str,
                   cert: Path | None, key: Path | None, ca_out: Path | None, lang: str | None, debug: bool) -> int:
    """Serve the Test SSL page over HTTPS with client-certificate authentication, until interrupted.

    Browsers and `cpsdiag check --tls https://HOST:PORT/` get the page of the
    card's certificate: organisation, authority, class, given name, surname,
    identifier, serial, dates and verification.
    """
    from cpsdiag.i18n import language
    from cpsdiag.tls.server import ServerConfig, build_server, server_url

    if bool(cert) != bool(key):
        raise click.UsageError("--cert and --key go together")
    config = ServerConfig(host, port, anchors, not no_bundled_anchors, tuple(tls_versions.split(",")), cert, key,
                          ca_out)
    # SIGTERM, SIGHUP and Ctrl-C close the server, which removes its ephemeral certificate's folder.
    try:
        with stop_on_signals():
            server, ca = build_server(config, language())
            try:
                real_port = server.server_address[1]
                click.echo(f"testssl-server: {server_url(host, real_port)} (TLS {tls_versions}), server CA: {ca}",
                           err=True)
                server.serve_forever()
            finally:
                server.server_close()
    except Stopped:
        pass
    return 0
