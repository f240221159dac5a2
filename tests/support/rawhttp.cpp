#include "rawhttp.h"

#include <QDeadlineTimer>
#include <QFile>
#include <QTcpSocket>

namespace edgelens::test {

QByteArray RawHttpAnswer::header(const QByteArray &name) const
{
    const QByteArray wanted = name.toLower() + ':';
    for (const QByteArray &line : head.split('\n')) {
        if (line.toLower().startsWith(wanted))
            return line.mid(wanted.size()).trimmed();
    }
    return {};
}

QList<RawHttpAnswer> takeHttpAnswers(QByteArray *buffer)
{
    QList<RawHttpAnswer> answers;
    for (;;) {
        const qsizetype end = buffer->indexOf("\r\n\r\n");
        if (end < 0)
            return answers;
        RawHttpAnswer answer;
        answer.head = buffer->left(end);
        const QList<QByteArray> statusLine = answer.head.left(answer.head.indexOf('\r')).split(' ');
        answer.status = statusLine.value(1).toInt();
        const qsizetype length = answer.header("content-length").toLongLong();
        if (buffer->size() < end + 4 + length)
            return answers;
        answer.body = buffer->mid(end + 4, length);
        buffer->remove(0, end + 4 + length);
        if (answer.status == 100)
            continue; // an interim answer; the real one follows
        answers.append(answer);
    }
}

bool connectFrom(QTcpSocket &socket, quint16 port, const QHostAddress &from)
{
    if (!from.isNull() && !socket.bind(from, 0))
        return false;
    socket.connectToHost(QHostAddress::LocalHost, port);
    return socket.waitForConnected(5000);
}

std::optional<RawHttpAnswer> rawHttpRequest(quint16 port, const QByteArray &request, const QHostAddress &from,
                                            int timeoutMs)
{
    QTcpSocket socket;
    if (!connectFrom(socket, port, from))
        return std::nullopt;
    socket.write(request);
    QByteArray buffer;
    QDeadlineTimer deadline(timeoutMs);
    while (!deadline.hasExpired()) {
        socket.waitForReadyRead(50);
        buffer += socket.readAll();
        const QList<RawHttpAnswer> answers = takeHttpAnswers(&buffer);
        if (!answers.isEmpty())
            return answers.first();
        if (socket.state() != QAbstractSocket::ConnectedState && socket.bytesAvailable() == 0)
            break;
    }
    return std::nullopt;
}

QByteArray deepStackPost(const QByteArray &path, const QByteArray &image,
                         const QList<QPair<QByteArray, QByteArray>> &fields, const QByteArray &extraHeaders)
{
    const QByteArray boundary = "edgelens-test-boundary";
    QByteArray body;
    if (!image.isNull()) {
        body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"image.jpg\"\r\n"
                                  "Content-Type: image/jpeg\r\n\r\n"
            + image + "\r\n";
    }
    for (const auto &[name, value] : fields)
        body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value + "\r\n";
    body += "--" + boundary + "--\r\n";
    return "POST " + path + " HTTP/1.1\r\nHost: edgelens\r\nContent-Type: multipart/form-data; boundary=" + boundary
        + "\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n" + extraHeaders + "\r\n" + body;
}

qint64 procStatusKb(qint64 pid, const QByteArray &field)
{
    QFile status(QStringLiteral("/proc/%1/status").arg(pid));
    if (!status.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : status.readAll().split('\n')) {
        if (line.startsWith(QByteArray(field + ':')))
            return line.mid(field.size() + 1).trimmed().split(' ').value(0).toLongLong();
    }
    return -1;
}

bool resetPeakRss(qint64 pid)
{
    QFile refs(QStringLiteral("/proc/%1/clear_refs").arg(pid));
    return refs.open(QIODevice::WriteOnly) && refs.write("5") == 1;
}

} // namespace edgelens::test
