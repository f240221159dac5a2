#pragma once

#include "net/detectionservice.h"
#include "protocol/protocol.h"

#include <QObject>

namespace edgelens {

class ClientConnection;

// What a connection hands its bytes to once it knows the protocol: parses frames, turns them
// into DetectionService requests and the answers back into frames. The connection keeps the
// socket, the timers and the closing; the session keeps the protocol's state. Its service
// session (and with it every queued request) ends when the client goes away.
class ProtocolSession : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ProtocolSession)

public:
    ProtocolSession(ClientConnection *connection, DetectionService *service);
    ~ProtocolSession() override;

    virtual QString protocolName() const = 0;
    virtual void receive(const QByteArray &bytes) = 0;
    virtual void resume() = 0; // the write backlog drained: parse what is buffered
    virtual bool midFrame() const = 0;
    virtual qint64 bufferedBytes() const = 0;
    // The server is over a limit: say so in the protocol's way and close.
    virtual void refuse(protocol::ErrorCode code, const QString &message) = 0;
    // The connection timed out (idle or frame deadline): say why if the protocol can, close.
    virtual void timedOut(const QString &why) = 0;
    // Shutting down: close once the running requests are answered.
    void drain();
    // The client is gone: cancel its queued work, drop the answers of running work.
    void end();

    int inFlight() const;

protected:
    // The answer of an admitted request arrived; drain-time closing is handled here.
    void afterAnswer();
    // "600x400, 3 detections (2 person, 1 dog), model nanodet-m-320 (infer 33.1 ms)" or the error.
    void logOutcome(const QString &what, const DetectReply &reply) const;
    void logRequest(const QString &what, qint64 bytes, const QString &outcome, double ms, bool failed) const;

    ClientConnection *m_connection;
    DetectionService *m_service;
    DetectionService::SessionId m_id;
    bool m_ended = false;
};

} // namespace edgelens
