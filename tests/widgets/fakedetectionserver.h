#pragma once

#include "protocol/protocol.h"

#include <QHash>
#include <QJsonObject>
#include <QTcpServer>

#include <memory>

class QTcpSocket;

// A minimal server on 127.0.0.1 for widget tests: in V2 mode it answers the preamble,
// InfoRequest with `info`, Ping and Detect (echoing the image, no detections); in Legacy mode
// it behaves like the tutorial server: it never answers a v2 preamble and replies to one
// length-prefixed image with a length-prefixed JPEG, then closes.
class FakeDetectionServer final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(FakeDetectionServer)

public:
    enum class Mode { V2, Legacy };

    explicit FakeDetectionServer(Mode mode, QObject *parent = nullptr);
    ~FakeDetectionServer() override;

    bool listen(); // an ephemeral port on 127.0.0.1
    quint16 port() const;
    void setInfo(const QJsonObject &info) { m_info = info; }
    int infoRequests() const { return m_infoRequests; }
    int imagesReceived() const { return m_images; }

private:
    void acceptConnection();
    void readFrom(QTcpSocket *socket);

    Mode m_mode;
    QTcpServer m_server;
    QJsonObject m_info;
    QHash<QTcpSocket *, std::shared_ptr<edgelens::protocol::FrameReader>> m_readers;
    int m_infoRequests = 0;
    int m_images = 0;
};
