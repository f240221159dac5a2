#include "httptestserver.h"

#include <QTcpSocket>

namespace edgelens::test {

HttpTestServer::HttpTestServer(QObject *parent)
    : QTcpServer(parent)
{
}

void HttpTestServer::incomingConnection(qintptr handle)
{
    auto *socket = new QTcpSocket(this);
    socket->setSocketDescriptor(handle);
    connect(socket, &QTcpSocket::readyRead, this, [this, socket] {
        QByteArray &buffer = m_buffers[socket];
        buffer.append(socket->readAll());
        const qsizetype end = buffer.indexOf("\r\n\r\n");
        if (end < 0)
            return;
        const QByteArray head = buffer.left(end);
        buffer.clear();
        answer(socket, head);
    });
    connect(socket, &QTcpSocket::disconnected, this, [this, socket] {
        m_buffers.remove(socket);
        socket->deleteLater();
    });
}

void HttpTestServer::answer(QTcpSocket *socket, const QByteArray &head)
{
    ++requests;
    const QList<QByteArray> lines = head.split('\n');
    const QList<QByteArray> requestLine = lines.first().trimmed().split(' ');
    const QString name = QString::fromLatin1(requestLine.value(1).mid(1));
    qint64 from = 0;
    QByteArray range;
    for (const QByteArray &line : lines) {
        if (line.toLower().startsWith("range:")) {
            range = line.mid(6).trimmed();
            from = range.mid(6, range.indexOf('-') - 6).toLongLong();
        }
    }
    rangeHeaders.append(range);
    if (!files.contains(name)) {
        socket->write("HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found");
        socket->disconnectFromHost();
        return;
    }
    const QByteArray data = files.value(name);
    QByteArray body = data;
    QByteArray header;
    if (!range.isEmpty() && supportRange) {
        body = data.mid(from);
        header = "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes " + QByteArray::number(from) + '-'
            + QByteArray::number(data.size() - 1) + '/' + QByteArray::number(data.size()) + "\r\n";
    } else {
        header = "HTTP/1.1 200 OK\r\n";
    }
    header += "Content-Length: " + QByteArray::number(body.size()) + "\r\nConnection: close\r\n\r\n";
    socket->write(header);
    if (cutAfter >= 0) {
        socket->write(body.left(cutAfter));
        cutAfter = -1;
        socket->flush();
        socket->abort();
        return;
    }
    socket->write(body);
    socket->disconnectFromHost();
}

} // namespace edgelens::test
