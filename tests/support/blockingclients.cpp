#include "blockingclients.h"

#include <QDeadlineTimer>
#include <QHostAddress>
#include <QtEndian>

namespace edgelens::test {

using namespace protocol;

namespace {

bool readExactly(QTcpSocket &socket, qint64 count, QByteArray *out, int timeoutMs)
{
    QDeadlineTimer deadline(timeoutMs);
    while (out->size() < count) {
        if (socket.bytesAvailable() == 0 && !socket.waitForReadyRead(int(qMax<qint64>(1, deadline.remainingTime()))))
            return socket.bytesAvailable() > 0 ? readExactly(socket, count, out, 0) : false;
        out->append(socket.read(count - out->size()));
        if (deadline.hasExpired() && out->size() < count)
            return false;
    }
    return true;
}

} // namespace

LegacyReply legacyRequest(quint16 port, const QByteArray &frame, int timeoutMs)
{
    LegacyReply reply;
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port);
    if (!socket.waitForConnected(5000))
        return reply;
    socket.write(frame);
    socket.waitForBytesWritten(5000);
    QByteArray header;
    if (readExactly(socket, 4, &header, timeoutMs)) {
        const quint32 length = qFromLittleEndian<quint32>(header.constData());
        QByteArray body;
        if (readExactly(socket, length, &body, timeoutMs)) {
            reply.replied = true;
            reply.jpeg = body;
        }
    }
    if (socket.state() != QAbstractSocket::UnconnectedState)
        socket.waitForDisconnected(timeoutMs);
    reply.closedByServer = socket.state() == QAbstractSocket::UnconnectedState;
    return reply;
}

bool V2Client::connectTo(quint16 port, bool sendPreamble)
{
    m_socket.connectToHost(QHostAddress::LocalHost, port);
    if (!m_socket.waitForConnected(5000))
        return false;
    if (sendPreamble)
        write(encodePreamble());
    return true;
}

bool V2Client::waitClosed(int timeoutMs)
{
    if (m_socket.state() == QAbstractSocket::UnconnectedState)
        return true;
    m_socket.waitForDisconnected(timeoutMs);
    return m_socket.state() == QAbstractSocket::UnconnectedState;
}

} // namespace edgelens::test
