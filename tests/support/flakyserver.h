#pragma once

// A loopback detection server for the app's tests that can misbehave on purpose: drop the
// connection halfway through a reply, answer slowly, or be stopped and started again on the
// same port. Speaks v2 (Result with one "cat" detection and a small JPEG) or the legacy
// one-image-per-connection protocol (a JPEG only).

#include "protocol/protocol.h"

#include <QHash>
#include <QPointer>
#include <QSize>
#include <QTcpServer>
#include <QTcpSocket>

#include <memory>

class FlakyServer final : public QObject
{
    Q_OBJECT

public:
    explicit FlakyServer(bool legacy = false, QObject *parent = nullptr);
    ~FlakyServer() override;

    bool listen(quint16 port = 0); // 127.0.0.1
    void stop();                   // closes the port and cuts every connection
    quint16 port() const { return m_port; }

    int dropRepliesLeft = 0; // next N detect replies are cut off halfway
    int replyDelayMs = 0;
    int detectRequests = 0;  // received, re-sends included
    int answered = 0;        // complete replies written
    int connections = 0;
    // An outage a client must sit through, counted in its own attempts rather than in time:
    // once outageAfterAnswers replies went out (0: never), every open connection is cut and
    // the next outageConnections ones are cut as soon as they are accepted; then it serves again.
    int outageAfterAnswers = 0;
    int outageConnections = 0;
    int cutInOutage = 0; // connections cut so far by the outage
    // Set: server-info names a default model with this input, and a detect request with
    // return_image false gets detections only, placed on the image it received: a "cat" over
    // its middle (0.8) and a "dog" in the top-left corner (0.15, below the app's threshold).
    QSize modelInput;
    QSize lastImageSize; // of the last detect request's image

    static QByteArray tinyJpeg();

private:
    struct Peer
    {
        std::unique_ptr<edgelens::protocol::FrameReader> reader;
    };
    void handleNewConnection();
    void handleReadyRead(QTcpSocket *socket);
    void reply(QTcpSocket *socket, const QByteArray &bytes, bool cut, bool closeAfter);

    bool m_legacy;
    QTcpServer m_server;
    quint16 m_port = 0;
    QHash<QTcpSocket *, std::shared_ptr<Peer>> m_peers;
};
