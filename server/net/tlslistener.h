#pragma once

#include "net/tcplistener.h"
#include "net/tlsidentity.h"

namespace edgelens {

// A TCP port that speaks TLS (1.2 or later) first and then the same legacy and v2 protocols
// inside it. The handshake runs before a connection is handed on (QSslServer); a failed one
// (a plaintext client, TLS 1.1, a client that gives up on the certificate) is logged and
// the connection closed.
class TlsListener final : public TcpListener
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TlsListener)

public:
    TlsListener(const TlsIdentity &identity, DetectionService *service, const ServerConfig *config,
                QObject *parent = nullptr);

    QString kind() const override { return QStringLiteral("TLS"); }

protected:
    QTcpServer *createServer() override;

private:
    TlsIdentity m_identity;
};

} // namespace edgelens
