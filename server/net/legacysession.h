#pragma once

#include "net/protocolsession.h"

namespace edgelens {

// The tutorial's protocol: one u32 LE length + image, answered with u32 LE length + the
// marked-up JPEG, then the server closes. It has no way to say why a request failed, so a
// failure is a closed connection (and a log line).
class LegacySession final : public ProtocolSession
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LegacySession)

public:
    LegacySession(ClientConnection *connection, DetectionService *service);

    QString protocolName() const override { return QStringLiteral("legacy"); }
    void receive(const QByteArray &bytes) override;
    void resume() override {}
    bool midFrame() const override;
    qint64 bufferedBytes() const override;
    void refuse(protocol::ErrorCode code, const QString &message) override;
    void timedOut(const QString &why) override;

private:
    void answer(const DetectReply &reply);

    protocol::FrameReader m_reader;
    bool m_taken = false; // one image per connection; anything after it is ignored
};

} // namespace edgelens
