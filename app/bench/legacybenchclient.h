#pragma once

#include "protocol/protocol.h"

#include <QAbstractSocket>
#include <QElapsedTimer>
#include <QObject>
#include <QString>

#include <functional>
#include <memory>

class QTcpSocket;

namespace edgelens {

// A client of the tutorial's protocol written the way the tutorial's users wrote theirs:
// one TCP connection per image, u32 LE length + image out, u32 LE length + JPEG back. It
// sends one image after another until told to stop, so N of them are N concurrent clients.
class LegacyBenchClient final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LegacyBenchClient)

public:
    // nextImage returns the next image to send, or an empty array when the run is over.
    LegacyBenchClient(const QString &host, quint16 port, std::function<QByteArray()> nextImage,
                      QObject *parent = nullptr);
    ~LegacyBenchClient() override;

    void start();

signals:
    void imageDone(double roundTripMs);
    void imageFailed(const QString &reason);
    void finished(); // nextImage() had nothing more

private slots:
    void sendRequest();
    void readReply();
    void reportError(QAbstractSocket::SocketError error);

private:
    void sendNext();
    void closeSocket();
    void finishImage();

    QString m_host;
    quint16 m_port;
    std::function<QByteArray()> m_nextImage;
    QByteArray m_image;
    QTcpSocket *m_socket = nullptr;
    std::unique_ptr<protocol::FrameReader> m_reader;
    QElapsedTimer m_timer;
    bool m_awaitingReply = false; // one outcome per image, whatever the socket reports after it
};

} // namespace edgelens
