#pragma once

// Answers the tutorial's way: read u32 LE length + image, reply u32 LE length + a JPEG of the
// decoded image with a frame drawn on it, close. It reads raw bytes, not through FrameReader,
// because it must misbehave exactly like the Python server: a v2 preamble reads as a 1.4 GB
// length, and it just waits.

#include <QHash>
#include <QTcpServer>

class QTcpSocket;

namespace edgelens::test {

class LegacyTestServer final : public QTcpServer
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LegacyTestServer)

public:
    explicit LegacyTestServer(QObject *parent = nullptr);

    int connections = 0;
    int answered = 0;
    bool closeWithoutReply = false; // act like a server that cannot decode the image

protected:
    void incomingConnection(qintptr handle) override;

private:
    void readFrom(QTcpSocket *socket);
    QHash<QTcpSocket *, QByteArray> m_buffers;
};

} // namespace edgelens::test
