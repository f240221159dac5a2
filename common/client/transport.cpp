#include "transport.h"

#include "client/socketfactory.h"

#include <QTimer>

namespace edgelens {

Transport::Transport(const TransportSettings &settings, QObject *parent)
    : QObject(parent)
    , m_settings(settings)
{
}

Transport::~Transport() = default;

void Transport::probeDevice(QPointer<QTcpSocket> *probe, const std::function<void(QTcpSocket *)> &established,
                            const std::function<void(const QString &, Loss)> &failed)
{
    QTcpSocket *socket = m_settings.sockets->connectTo(
        m_settings.device, this,
        [probe, established] {
            QTcpSocket *done = *probe;
            if (!done)
                return;
            *probe = nullptr;
            done->disconnect();
            established(done);
            done->abort();
            done->deleteLater();
        },
        [failed](const QString &reason) { failed(reason, Loss::Refused); });
    *probe = socket;
    connect(socket, &QTcpSocket::errorOccurred, this, [this, probe, socket, failed](QAbstractSocket::SocketError error) {
        if (socket == *probe)
            failed(describeSocketError(error, m_settings.device.host, m_settings.device.port, socket->errorString()),
                   Loss::ConnectFailed);
    });
    QTimer::singleShot(m_settings.connectTimeoutMs, this, [this, probe, socket, failed] {
        if (socket == *probe)
            failed(QStringLiteral("Timed out connecting to %1.").arg(deviceName()), Loss::ConnectFailed);
    });
}

QString Transport::describeSocketError(QAbstractSocket::SocketError error, const QString &host, quint16 port,
                                       const QString &detail)
{
    DeviceSpec device;
    device.host = host;
    device.port = port;
    const QString where = device.name();
    switch (error) {
    case QAbstractSocket::ConnectionRefusedError:
        return QStringLiteral("Connection refused: is the server running on %1?").arg(where);
    case QAbstractSocket::HostNotFoundError:
        return QStringLiteral("Host not found: check the host name \"%1\".").arg(host);
    case QAbstractSocket::RemoteHostClosedError:
        return QStringLiteral("The server at %1 closed the connection.").arg(where);
    case QAbstractSocket::SocketTimeoutError:
        return QStringLiteral("Timed out talking to %1.").arg(where);
    case QAbstractSocket::NetworkError:
        return QStringLiteral("Network error while talking to %1: %2").arg(where, detail);
    case QAbstractSocket::SocketAccessError:
        return QStringLiteral("Not allowed to open a connection to %1: %2").arg(where, detail);
    case QAbstractSocket::SocketResourceError:
        return QStringLiteral("Out of sockets or memory while connecting to %1.").arg(where);
    case QAbstractSocket::UnsupportedSocketOperationError:
        return QStringLiteral("This system cannot reach %1 (unsupported address type).").arg(where);
    case QAbstractSocket::SslHandshakeFailedError:
        return QStringLiteral("The TLS handshake with %1 failed: %2").arg(where, detail);
    case QAbstractSocket::ProxyConnectionRefusedError:
    case QAbstractSocket::ProxyConnectionClosedError:
    case QAbstractSocket::ProxyConnectionTimeoutError:
    case QAbstractSocket::ProxyNotFoundError:
    case QAbstractSocket::ProxyProtocolError:
    case QAbstractSocket::ProxyAuthenticationRequiredError:
        return QStringLiteral("The proxy refused or failed the connection to %1: %2").arg(where, detail);
    default:
        break;
    }
    return detail.isEmpty() ? QStringLiteral("The connection to %1 failed.").arg(where)
                            : QStringLiteral("The connection to %1 failed: %2").arg(where, detail);
}

} // namespace edgelens
