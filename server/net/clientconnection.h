#pragma once

#include "protocol/protocol.h"

#include <QAbstractSocket>
#include <QElapsedTimer>
#include <QJsonObject>
#include <QObject>
#include <QTimer>

#include <optional>

class QTcpSocket;

namespace edgelens {

class DetectionEngine;
struct DetectionJob;
struct DetectionOutcome;
struct ImageInfo;
struct ServerConfig;

// One client socket on the server: detects legacy or v2 from the first bytes, parses frames
// incrementally, hands images to the DetectionEngine and answers when the worker is done. It
// lives in the server's thread and never blocks it. Deletes itself once the socket is closed.
class ClientConnection final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ClientConnection)

public:
    struct Context
    {
        DetectionEngine *engine = nullptr;
        const ServerConfig *config = nullptr;
        QJsonObject serverInfo;
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

    int inFlight() const { return m_inFlight; }
    QString peer() const { return m_peer; }
    static QString peerName(const QTcpSocket *socket);

signals:
    void closed(); // the socket is gone; the object deletes itself right after

private slots:
    void readIncoming();
    void handleIdleTimeout();
    void handleFrameTimeout();
    void reportSocketError(QAbstractSocket::SocketError socketError);
    void resumeAfterWrite();
    void handleDisconnected();

private:
    void processFrames();
    bool handleProtocolDetected();
    bool answerPreamble();
    void handleLegacyImage(const QByteArray &image);
    void handleMessage(const protocol::Message &message);
    void handleDetect(const protocol::Message &message);
    void handleAuth(const protocol::Message &message);
    void handleFrameError();
    bool admitImage(const QByteArray &image, ImageInfo *info, protocol::ErrorCode *code, QString *why) const;
    void submit(quint32 requestId, DetectionJob job, const QString &model);
    void finishDetection(quint32 requestId, const DetectionOutcome &outcome, qint64 requestBytes,
                         const QString &model, double wallMs);
    void send(const protocol::Message &message);
    void sendErrorAndClose(quint32 requestId, protocol::ErrorCode code, const QString &message);
    void closeGracefully();
    bool writeBacklogged() const;
    QString protocolName() const;
    void logRequest(quint32 requestId, const QString &what, qint64 bytes, const QString &outcome, double ms,
                    bool failed) const;

    QTcpSocket *m_socket;
    Context m_context;
    protocol::FrameReader m_reader;
    QString m_peer;
    QTimer m_idleTimer;
    QTimer m_frameTimer;
    QTimer m_closeTimer;
    bool m_protocolKnown = false;
    bool m_preambleAnswered = false;
    bool m_authenticated = false;
    bool m_legacyTaken = false; // legacy: one image per connection
    bool m_closing = false;
    bool m_draining = false;
    bool m_paused = false;
    bool m_gone = false;
    int m_inFlight = 0;
    std::optional<std::pair<protocol::ErrorCode, QString>> m_refusal;
};

} // namespace edgelens
