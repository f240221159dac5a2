#pragma once

// A well-behaved loopback detection server for widget and app tests. In V2 mode it answers
// the preamble, InfoRequest with `info`, Ping, and Detect (echoing the image, no detections);
// a legacy client gets its image echoed too. In Legacy mode it behaves like the tutorial
// server: it never answers a v2 preamble, and replies to one length-prefixed image with a
// length-prefixed JPEG (the same bytes), then closes.

#include "framedtestserver.h"

#include <QJsonObject>

namespace edgelens::test {

class FakeDetectionServer final : public FramedTestServer
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(FakeDetectionServer)

public:
    enum class Mode { V2, Legacy };

    explicit FakeDetectionServer(Mode mode, QObject *parent = nullptr);

    void setInfo(const QJsonObject &info) { m_info = info; }
    int infoRequests() const { return m_infoRequests; }
    int imagesReceived() const { return m_images; }

protected:
    bool bytesArrived(QTcpSocket *socket, const protocol::FrameReader &reader, const QByteArray &bytes) override;
    void preambleArrived(QTcpSocket *socket) override;
    void messageArrived(QTcpSocket *socket, const protocol::Message &message) override;
    void legacyFrameArrived(QTcpSocket *socket, const QByteArray &payload) override;

private:
    Mode m_mode;
    QJsonObject m_info;
    int m_infoRequests = 0;
    int m_images = 0;
};

} // namespace edgelens::test
