#include "legacytestserver.h"

#include "testimages.h"

#include "protocol/protocol.h"

#include <QImage>
#include <QPainter>
#include <QTcpSocket>
#include <QtEndian>

namespace edgelens::test {

LegacyTestServer::LegacyTestServer(QObject *parent)
    : QTcpServer(parent)
{
}

void LegacyTestServer::incomingConnection(qintptr handle)
{
    auto *socket = new QTcpSocket(this);
    socket->setSocketDescriptor(handle);
    ++connections;
    m_buffers.insert(socket, QByteArray());
    connect(socket, &QTcpSocket::readyRead, this, [this, socket] { readFrom(socket); });
    connect(socket, &QTcpSocket::disconnected, this, [this, socket] {
        m_buffers.remove(socket);
        socket->deleteLater();
    });
}

void LegacyTestServer::readFrom(QTcpSocket *socket)
{
    QByteArray &buffer = m_buffers[socket];
    buffer.append(socket->readAll());
    if (buffer.size() < 4)
        return;
    const quint32 length = qFromLittleEndian<quint32>(buffer.constData());
    if (length > 64u * 1024u * 1024u) {
        // The tutorial server would keep reading for ever; keep only the count, not the bytes.
        buffer.truncate(4);
        return;
    }
    if (buffer.size() < qsizetype(4 + length))
        return;
    if (closeWithoutReply) {
        socket->disconnectFromHost();
        return;
    }
    QImage image = QImage::fromData(buffer.mid(4, length));
    QByteArray jpeg;
    if (!image.isNull()) {
        image = image.convertToFormat(QImage::Format_RGB32);
        QPainter painter(&image);
        painter.setPen(QPen(Qt::green, 3));
        painter.drawRect(image.rect().adjusted(2, 2, -3, -3));
        painter.end();
        jpeg = encodeImage(image, "JPEG", 90);
    }
    ++answered;
    socket->write(protocol::encodeLegacyFrame(jpeg));
    socket->disconnectFromHost();
}

} // namespace edgelens::test
