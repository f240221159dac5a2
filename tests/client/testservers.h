#pragma once

// Small loopback servers with scripted behaviour, so the client's fallback, retry and timeout
// paths can be driven exactly. The real DetectionServer is exercised separately.

#include "protocol/protocol.h"

#include <QHash>
#include <QList>
#include <QTcpServer>
#include <QTcpSocket>

#include <memory>

// Answers the tutorial's way: read u32 LE length + image, reply u32 LE length + a JPEG of the
// decoded image with a frame drawn on it, close. A v2 preamble reads as a 1.4 GB length, so it
// just waits, like the Python server would.
class LegacyTestServer final : public QTcpServer
{
    Q_OBJECT
public:
    explicit LegacyTestServer(QObject *parent = nullptr);
    int connections = 0;
    int answered = 0;
    bool closeWithoutReply = false; // act like a server that cannot decode the image

protected:
    void incomingConnection(qintptr handle) override;

private:
    void handleReadyRead(QTcpSocket *socket);
    QHash<QTcpSocket *, QByteArray> m_buffers;
};

// A v2 server whose answers follow a script. Result meta echoes the image size and puts the
// request's image byte count in "model" so a test can tell which request a result belongs to.
class ScriptedV2Server final : public QTcpServer
{
    Q_OBJECT
public:
    enum class Behaviour {
        Answer,            // answer every request
        DropMidReply,      // send half of the Result, then close (dropsLeft times, then Answer)
        NeverAnswer,       // read requests, say nothing
        AnswerInReverse,   // hold detect replies until holdCount arrived, then answer newest first
        ErrorUndecodable,  // answer Detect with an undecodable_image error
        LimitInFlight,     // answer after 30 ms; more than inFlightLimit pending -> busy error
    };
    explicit ScriptedV2Server(QObject *parent = nullptr);

    Behaviour behaviour = Behaviour::Answer;
    int dropsLeft = 1;
    int holdCount = 3;
    int inFlightLimit = 2;
    int busyAnswers = 0;
    QString requiredToken;       // non-empty: Auth must come first
    int connections = 0;
    int detectRequests = 0;      // Detect messages received (re-sends included)
    QList<QJsonObject> receivedOptions;

protected:
    void incomingConnection(qintptr handle) override;

private:
    struct Peer
    {
        std::unique_ptr<edgelens::protocol::FrameReader> reader;
        bool authenticated = false;
        QList<edgelens::protocol::Message> held;
    };
    void handleReadyRead(QTcpSocket *socket);
    void handleMessage(QTcpSocket *socket, Peer &peer, const edgelens::protocol::Message &message);
    static QByteArray resultFor(const edgelens::protocol::Message &request);
    QHash<QTcpSocket *, std::shared_ptr<Peer>> m_peers;
};

// A minimal HTTP/1.1 file server: GET /<name>, honouring "Range: bytes=N-" unless told not to.
class HttpTestServer final : public QTcpServer
{
    Q_OBJECT
public:
    explicit HttpTestServer(QObject *parent = nullptr);
    QHash<QString, QByteArray> files;
    bool supportRange = true;
    qint64 cutAfter = -1; // close after sending this many body bytes (once)
    QList<QByteArray> rangeHeaders;
    int requests = 0;

protected:
    void incomingConnection(qintptr handle) override;

private:
    void answer(QTcpSocket *socket, const QByteArray &head);
    QHash<QTcpSocket *, QByteArray> m_buffers;
};
