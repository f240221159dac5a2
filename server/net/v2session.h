#pragma once

#include "net/protocolsession.h"

namespace edgelens {

// EdgeLens protocol v2 (docs/PROTOCOL.md): preamble, then pipelined messages matched by
// request id; errors are answered as Error messages and most leave the connection open.
class V2Session final : public ProtocolSession
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(V2Session)

public:
    V2Session(ClientConnection *connection, DetectionService *service);

    QString protocolName() const override { return QStringLiteral("v2"); }
    void receive(const QByteArray &bytes) override;
    void resume() override;
    bool midFrame() const override;
    qint64 bufferedBytes() const override;
    void refuse(protocol::ErrorCode code, const QString &message) override;
    void timedOut(const QString &why) override;

private:
    void processFrames();
    bool answerPreamble();
    void handleMessage(const protocol::Message &message);
    void handleDetect(const protocol::Message &message);
    void handleAuth(const protocol::Message &message);
    void handleFrameError();
    void send(const protocol::Message &message);
    void sendErrorAndClose(quint32 requestId, protocol::ErrorCode code, const QString &message);
    static QString requestName(quint32 requestId, const QString &what);

    protocol::FrameReader m_reader;
    bool m_preambleAnswered = false;
    bool m_authenticated = false;
};

} // namespace edgelens
