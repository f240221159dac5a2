#pragma once

#include "net/detectionservice.h"
#include "protocol/protocol.h"

#include <QAbstractSocket>
#include <QByteArray>
#include <QHostAddress>
#include <QObject>
#include <QTimer>

#include <optional>

class QTcpSocket;

namespace edgelens {

class ProtocolSession;
struct ServerConfig;

// One client socket on the server, whatever it speaks: sniffs the first bytes
// (ProtocolSniffer), hands the connection to the session for its protocol (LegacySession,
// V2Session) and keeps what every protocol shares: timeouts, write backpressure, graceful and
// abrupt closing, the peer's name in log lines. A stranger (TLS on a plaintext port, HTTP,
// an unexpected PROXY header) is named in the log and closed at once. Lives in the server's
// thread and never blocks it; deletes itself once the socket is closed.
class ClientConnection final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ClientConnection)

public:
    struct Context
    {
        DetectionService *service = nullptr;
        const ServerConfig *config = nullptr;
        QString listenerKind; // "tcp", "tls": named in log lines about strangers
    };

    // Takes ownership of socket.
    ClientConnection(QTcpSocket *socket, const Context &context, QObject *parent = nullptr);
    ~ClientConnection() override;

    // Over a server-wide limit: answer in the client's own protocol (a v2 Error, or a closed
    // legacy connection) as soon as its first bytes tell which, then close.
    void refuse(protocol::ErrorCode code, const QString &message);
    // Shutting down: read no new requests, close once the running ones are answered.
    void drain();
    void abort();

    int inFlight() const;
    QString peer() const { return m_peer; }       // "192.0.2.7:51234", "[2001:db8::7]:51234"
    QHostAddress clientAddress() const { return m_clientAddress; }
    bool isEncrypted() const; // TLS
    static QString peerName(const QTcpSocket *socket);
    static QString peerName(const QHostAddress &address, quint16 port);

    // For the sessions.
    void write(const QByteArray &bytes);
    void closeGracefully();
    bool isClosing() const { return m_closing; }
    bool isDraining() const { return m_draining; }
    bool writeBacklogged() const;
    void pauseReading(); // until the client has taken enough of the replies
    // After each parse step: the frame deadline runs from a frame's first byte to its last.
    void noteFrameState(bool midFrame, bool completedFrame);
    void log(const QString &line, bool failed) const; // prefixed with the peer

signals:
    void closed(); // the socket is gone; the object deletes itself right after

private slots:
    void begin();
    void readIncoming();
    void handleIdleTimeout();
    void handleFrameTimeout();
    void reportSocketError(QAbstractSocket::SocketError socketError);
    void resumeAfterWrite();
    void handleDisconnected();

private:
    bool sniff(const QByteArray &bytes);
    void takeProxyHeader(const QByteArray &bytes);
    bool refuseIfThrottled();
    void startSession(bool legacy);
    ServerMetrics::Protocol metricsProtocol() const;

    QTcpSocket *m_socket;
    Context m_context;
    QString m_peer;
    QHostAddress m_clientAddress;
    QByteArray m_sniffed; // the first bytes, until they tell the protocol
    bool m_awaitingProxyHeader = false; // --proxy-protocol: the balancer's header comes first
    ProtocolSession *m_session = nullptr;
    QTimer m_idleTimer;
    QTimer m_frameTimer;
    QTimer m_closeTimer;
    bool m_closing = false;
    bool m_draining = false;
    bool m_paused = false;
    bool m_gone = false;
    std::optional<std::pair<protocol::ErrorCode, QString>> m_refusal;
    bool m_countedOpen = false; // connectionOpened() reported to the metrics
};

} // namespace edgelens
