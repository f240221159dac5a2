#pragma once

// The one network client of EdgeLens, used by edgelens-cli and the desktop app alike. It lives in
// the thread that created it (normally the GUI thread) and never blocks: every socket is
// asynchronous and every answer arrives as a signal.
//
// V2: one persistent connection, up to maxInFlight requests outstanding, matched by request id.
// Legacy (the tutorial's protocol): one connection per image, maxInFlight connections at a time.
// Auto: open a v2 connection and send the preamble. A v2 server answers with its own preamble
// at once; a legacy server reads the preamble as the length of a 1.4 GB image and waits, so no
// answer within probeTimeout (or a close) means legacy. The answer is remembered per host:port
// for the life of the process.
//
// Every submitted request ends in exactly one resultReady or requestFailed (or is returned by
// cancel/cancelAll). A dropped connection re-sends what was in flight with backoff, at most
// maxRetries times; a reply that arrives after its request was re-sent or failed is ignored,
// so no request is ever reported twice.

#include "client/clientresult.h"
#include "protocol/detection.h"
#include "protocol/protocol.h"

#include <QAbstractSocket>
#include <QByteArray>
#include <QElapsedTimer>
#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QTimer>

#include <deque>
#include <memory>

class QTcpSocket;

namespace edgelens {

class DetectionClient final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DetectionClient)

public:
    enum class Protocol { Auto, V2, Legacy };
    Q_ENUM(Protocol)

    enum class ConnectionState {
        Disconnected, // nothing open (legacy between images, or idle)
        Connecting,   // TCP connect in progress
        Negotiating,  // connected, waiting for the server's preamble / auth answer
        Connected,    // v2 session ready, or the last legacy exchange succeeded
        Reconnecting, // connection lost or refused; waiting for the backoff before retrying
    };
    Q_ENUM(ConnectionState)

    explicit DetectionClient(QObject *parent = nullptr);
    ~DetectionClient() override;

    // Changing the target or protocol closes the current connection; requests in flight are
    // re-queued for the new target without counting as a retry.
    void setTarget(const QString &host, quint16 port);
    QString host() const;
    quint16 port() const;
    void setProtocol(Protocol protocol);
    Protocol protocol() const;
    void setMaxInFlight(int count);       // >= 1; default 4
    int maxInFlight() const;
    void setTimeout(int milliseconds);    // connect and per-request reply timeout; default 30000
    int timeout() const;
    void setMaxRetries(int retries);      // re-sends after a dropped connection; default 3
    int maxRetries() const;
    void setProbeTimeout(int milliseconds); // Auto: how long to wait for a v2 preamble; default 1000
    void setToken(const QString &token);  // v2 Auth; empty: none
    void setRetryBackoff(int initialMs, int maxMs); // default 200 .. 3000, doubling

    // Protocol in use for the current target: V2 or Legacy once known, Auto while unknown.
    Protocol activeProtocol() const;
    ConnectionState connectionState() const;
    int pendingCount() const;  // queued + in flight

    // Queue one encoded image (JPEG, PNG, ... as read from disk). Returns its id (never 0).
    quint64 submit(const QByteArray &imageBytes, const DetectOptions &options = DetectOptions());
    // v2 only; on a legacy server these fail with a reason. Answers: serverInfoReceived / pongReceived.
    quint64 requestServerInfo();
    quint64 ping();

    // Forget requests without emitting anything for them; returns the ids dropped. A v2 reply
    // still on its way is ignored when it arrives.
    bool cancel(quint64 id);
    QList<quint64> cancelAll();

    // "Connection refused: is the server running on HOST:PORT?"
    static QString describeSocketError(QAbstractSocket::SocketError error, const QString &host, quint16 port,
                                       const QString &detail = QString());
    // Forget every remembered Auto answer (tests, or a user who upgraded their device).
    static void forgetDetectedProtocols();

Q_SIGNALS:
    void resultReady(quint64 id, const edgelens::ClientResult &result);
    void requestFailed(quint64 id, const QString &reason, bool retryable);
    void serverInfoReceived(quint64 id, const QJsonObject &info, double roundTripMs);
    void pongReceived(quint64 id, double roundTripMs);
    void connectionStateChanged(edgelens::DetectionClient::ConnectionState state);
    void protocolDetected(edgelens::DetectionClient::Protocol protocol); // Auto resolved to V2 or Legacy
    void requestRetrying(quint64 id, int attempt, const QString &reason); // progress/log hint only

private:
    enum class Kind { Detect, Info, Ping };
    enum class SessionState { Idle, Connecting, AwaitingPreamble, Authenticating, Ready };

    struct Request
    {
        quint64 id = 0;
        Kind kind = Kind::Detect;
        QByteArray image;
        DetectOptions options;
        int attempts = 0;          // sends so far
        QElapsedTimer sent;        // valid while in flight
        quint32 wireId = 0;        // v2 in flight
        QPointer<QTcpSocket> legacySocket;
        std::unique_ptr<protocol::FrameReader> legacyReader;
        qint64 legacyBytesReceived = 0;
        bool legacyConnected = false;
    };

    quint64 enqueue(Kind kind, const QByteArray &image, const DetectOptions &options);
    void schedulePump();
    void pump();
    Protocol resolvedProtocol() const;
    QString targetKey() const;
    void rememberProtocol(Protocol protocol);
    void setConnectionState(ConnectionState state);

    // v2 session
    void openSession();
    void closeSession(bool requeueWithoutPenalty);
    void handleSessionConnected();
    void handleSessionReadyRead();
    void handleSessionError(QAbstractSocket::SocketError error);
    void handleSessionDisconnected();
    void handleProbeTimeout();
    void sessionLost(const QString &reason, bool connectFailure);
    void handleMessage(const protocol::Message &message);
    void sendOverSession(Request &request);
    void fallBackToLegacy(const QString &why);

    // legacy exchanges
    void startLegacyExchange(Request &request);
    void handleLegacyConnected(QTcpSocket *socket);
    void handleLegacyReadyRead(QTcpSocket *socket);
    void handleLegacyFailure(QTcpSocket *socket, const QString &reason, bool dropped);
    void releaseLegacySocket(Request &request);

    void checkDeadlines();
    void failRequest(quint64 id, const QString &reason, bool retryable);
    void finishRequest(quint64 id);
    void failQueued(const QString &reason, bool retryable);
    int backoffDelay(int failures) const;
    QString target() const;

    QString m_host = QStringLiteral("127.0.0.1");
    quint16 m_port = protocol::kDefaultPort;
    Protocol m_protocol = Protocol::Auto;
    int m_maxInFlight = 4;
    int m_timeoutMs = 30000;
    int m_maxRetries = 3;
    int m_probeTimeoutMs = 1000;
    int m_backoffInitialMs = 200;
    int m_backoffMaxMs = 3000;
    QString m_token;

    quint64 m_nextId = 1;
    std::deque<quint64> m_queue; // waiting to be sent, in order
    QHash<quint64, std::shared_ptr<Request>> m_requests; // every live request
    QHash<quint32, quint64> m_wireToId;                  // v2 requests in flight
    QHash<QTcpSocket *, quint64> m_legacySockets;        // legacy requests in flight

    QTcpSocket *m_session = nullptr;
    SessionState m_sessionState = SessionState::Idle;
    std::unique_ptr<protocol::FrameReader> m_sessionReader;
    quint32 m_nextWireId = 1;
    quint32 m_authWireId = 0;
    bool m_sessionProbing = false; // Auto: this session decides v2 vs legacy
    int m_sessionWindow = 0;       // > 0: in-flight limit learned from a busy answer
    QElapsedTimer m_sessionClock;  // since connect started
    int m_connectFailures = 0;     // consecutive, reset by any answer
    int m_legacyFailures = 0;

    ConnectionState m_state = ConnectionState::Disconnected;
    QTimer m_probeTimer;
    QTimer m_reconnectTimer;
    QTimer m_watchdog;
    bool m_pumpScheduled = false;
};

} // namespace edgelens
