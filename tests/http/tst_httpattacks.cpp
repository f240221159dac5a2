// Issue 20's attacks on the HTTP port, against a real edgelens-server process with its default
// limits (HTTP: 64 connections, 16 per address, 32 MiB bodies, 80 MiB of bodies in memory):
// idle connections do not starve the TCP port, near-limit bodies held open and pipelined
// requests whose answers are never read cost bounded memory (the server's VmHWM from
// /proc), pipelined answers come in request order, HTTP/1.0 is closed after its answer, and
// an abandoned request is cancelled and leaves the in-flight gauge. Clients bind to 127.0.0.x
// to be many addresses. Every wait is for an event (an answer, a close), never a duration.

#include "rawhttp.h"
#include "serverprocess.h"
#include "testdata.h"
#include "testimages.h"
#include "v2channel.h"

#include "protocol/protocol.h"

#include <QColor>
#include <QDeadlineTimer>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTest>
#include <QtEndian>

#include <limits>
#include <memory>
#include <vector>

using namespace edgelens;
using namespace edgelens::test;

namespace {

// docs/HTTP.md's defaults, which the server runs with here.
constexpr int kMaxConnections = 64;
constexpr qint64 kBodyBudgetKb = 80 * 1024;
constexpr qint64 kPipelineLimitKb = 64 * 1024;

QHostAddress loopback(int host)
{
    return QHostAddress(QStringLiteral("127.0.0.%1").arg(host));
}

double metric(const QByteArray &exposition, const QByteArray &series, bool *found = nullptr)
{
    for (const QByteArray &line : exposition.split('\n')) {
        if (line.startsWith(QByteArray(series + ' '))) {
            if (found)
                *found = true;
            return line.mid(series.size() + 1).toDouble();
        }
    }
    if (found)
        *found = false;
    // Not 0: a sum or a comparison with a series that is missing must fail, not pass.
    return std::numeric_limits<double>::quiet_NaN();
}

} // namespace

class TestHttpAttacks : public QObject
{
    Q_OBJECT

private:
    ServerProcess m_server;
    quint16 m_http = 0;
    QByteArray m_image;

    QByteArray metrics()
    {
        const std::optional<RawHttpAnswer> answer =
            rawHttpRequest(m_http, "GET /metrics HTTP/1.1\r\nHost: edgelens\r\n\r\n");
        return answer && answer->status == 200 ? answer->body : QByteArray();
    }

    // A series that must be there: a missing one fails the test instead of reading as 0.
    // -1 while /metrics is not answered (the port may be full for a moment).
    double series(const QByteArray &name)
    {
        bool found = false;
        const QByteArray exposition = metrics();
        const double value = metric(exposition, name, &found);
        if (!found && !exposition.isEmpty())
            qWarning() << "no series" << name;
        return found ? value : -1;
    }

    bool waitForHttpConnections(double atMost)
    {
        QDeadlineTimer deadline(30000);
        while (!deadline.hasExpired()) {
            // This request's own connection is one of them.
            const double open = series("edgelens_open_connections{protocol=\"http\"}");
            if (open >= 0 && open <= atMost + 1)
                return true;
            QTest::qWait(50);
        }
        return false;
    }

    qint64 pid() const { return m_server.pid(); }

private slots:
    void initTestCase()
    {
        EDGELENS_REQUIRE_SHARED("data/samples/soccer.jpg");
        EDGELENS_REQUIRE_SHARED("models/nanodet-m-320");
        m_image = readSample(QStringLiteral("soccer.jpg"));
        QTcpSocket probe;
        QVERIFY2(probe.bind(loopback(2), 0), "cannot bind to 127.0.0.2 (loopback /8)");
        QHash<QString, QString> environment;
#if defined(__SANITIZE_ADDRESS__)
        // AddressSanitizer keeps freed memory in quarantine (256 MiB by default), which would
        // count as the server's in VmHWM; without it the figures are the server's own plus
        // ASan's shadow (1/8 of what is touched).
        environment.insert(QStringLiteral("ASAN_OPTIONS"),
                           qEnvironmentVariable("ASAN_OPTIONS") + QStringLiteral(":quarantine_size_mb=0"));
#endif
        QVERIFY2(m_server.start({QStringLiteral("--http-port"), QStringLiteral("0"), QStringLiteral("--threads"),
                                 QStringLiteral("1")},
                                environment),
                 qPrintable(m_server.diagnostics()));
        m_http = quint16(m_server.stdoutCapture(QStringLiteral("^http listening on \\S+:(\\d+)$")).toUInt());
        QVERIFY2(m_http != 0, qPrintable(m_server.out()));
        QVERIFY(procStatusKb(pid(), "VmRSS") > 0);
    }

    void cleanupTestCase() { m_server.stop(); }

    // 300 idle connections from 20 addresses: the HTTP port keeps its 64 and answers the rest
    // 503 + Retry-After; legacy and v2 clients on the TCP port are served meanwhile.
    void idleHttpConnections_leaveTheTcpPortServed()
    {
        std::vector<std::unique_ptr<QTcpSocket>> idle;
        for (int i = 0; i < 300; ++i) {
            auto socket = std::make_unique<QTcpSocket>();
            QVERIFY2(connectFrom(*socket, m_http, loopback(2 + i / 15)), qPrintable(QString::number(i)));
            idle.push_back(std::move(socket));
        }
        int refused = 0;
        QTRY_VERIFY_WITH_TIMEOUT(
            (refused = int(std::count_if(idle.begin(), idle.end(),
                                         [](const auto &s) { return s->state() != QAbstractSocket::ConnectedState; })))
                >= 300 - kMaxConnections,
            30000);
        QCOMPARE(refused, 300 - kMaxConnections);
        for (const auto &socket : idle) {
            if (socket->state() == QAbstractSocket::ConnectedState)
                continue;
            QByteArray bytes = socket->readAll();
            const QList<RawHttpAnswer> answers = takeHttpAnswers(&bytes);
            QCOMPARE(answers.size(), 1);
            QCOMPARE(answers.first().status, 503);
            QVERIFY(answers.first().header("retry-after").toInt() > 0);
        }

        // The tutorial's client and a v2 client on the TCP port.
        QTcpSocket legacy;
        QVERIFY(connectFrom(legacy, m_server.port()));
        legacy.write(protocol::encodeLegacyFrame(m_image));
        QByteArray reply;
        QTRY_VERIFY_WITH_TIMEOUT((reply += legacy.readAll(), legacy.state() != QAbstractSocket::ConnectedState), 60000);
        reply += legacy.readAll();
        QVERIFY2(reply.size() > 4 && qFromLittleEndian<quint32>(reply.constData()) == quint32(reply.size() - 4),
                 "the legacy client got no marked-up image");
        QTcpSocket v2;
        QVERIFY(connectFrom(v2, m_server.port()));
        V2Channel channel(&v2);
        channel.send(protocol::encodePreamble());
        const std::optional<protocol::Message> result = channel.request(protocol::makeDetect(1, {}, m_image), 60000);
        QVERIFY(result);
        QCOMPARE(result->type, protocol::MessageType::Result);

        idle.clear();
        QVERIFY(waitForHttpConnections(0));
    }

    // 20 clients each send a body 1 byte short of 31 MiB and hold it open. Two fit the 80 MiB
    // budget; the others are not read, and get 503 after waiting. The server grows by less than
    // the budget.
    void nearLimitBodies_growTheServerByLessThanTheBudget()
    {
        const qint64 bodySize = 31 * 1024 * 1024;
        const QByteArray head = "POST /v1/vision/detection HTTP/1.1\r\nHost: edgelens\r\n"
                                "Content-Type: multipart/form-data; boundary=B\r\nContent-Length: "
            + QByteArray::number(bodySize) + "\r\n\r\n";
        const QByteArray chunk(256 * 1024, 'x');
        const qint64 before = procStatusKb(pid(), "VmRSS");
        QVERIFY(resetPeakRss(pid()));

        struct Sender
        {
            std::unique_ptr<QTcpSocket> socket;
            qint64 left;
            QByteArray received;
        };
        std::vector<Sender> senders;
        for (int i = 0; i < 20; ++i) {
            Sender sender{std::make_unique<QTcpSocket>(), bodySize - 1, {}};
            QVERIFY(connectFrom(*sender.socket, m_http, loopback(2 + i)));
            sender.socket->write(head);
            senders.push_back(std::move(sender));
        }
        int refused = 0;
        int sent = 0;
        QDeadlineTimer deadline(120000);
        while (!deadline.hasExpired() && refused + sent < 20) {
            refused = sent = 0;
            for (Sender &s : senders) {
                s.received += s.socket->readAll();
                if (s.socket->state() != QAbstractSocket::ConnectedState) {
                    ++refused;
                    continue;
                }
                while (s.left > 0 && s.socket->bytesToWrite() < 1024 * 1024) {
                    const qint64 n = qMin<qint64>(s.left, chunk.size());
                    s.socket->write(chunk.constData(), n);
                    s.left -= n;
                }
                sent += s.left == 0 && s.socket->bytesToWrite() == 0 ? 1 : 0;
            }
            QTest::qWait(5);
        }
        const qint64 peak = procStatusKb(pid(), "VmHWM");
        qInfo("near-limit bodies: %d complete but for their last byte, %d refused; server VmRSS before %lld KiB, "
              "peak %lld KiB (+%lld KiB; the budget is %lld KiB)",
              sent, refused, before, peak, peak - before, kBodyBudgetKb);
        QCOMPARE(sent, 2);
        QCOMPARE(refused, 18);
        for (Sender &s : senders) {
            if (s.socket->state() == QAbstractSocket::ConnectedState)
                continue;
            const QList<RawHttpAnswer> answers = takeHttpAnswers(&s.received);
            QVERIFY2(answers.size() == 1 && answers.first().status == 503, s.received.left(200).constData());
            QVERIFY(answers.first().header("retry-after").toInt() > 0);
        }
        QVERIFY2(peak - before < kBodyBudgetKb, qPrintable(QString::number(peak - before)));
        senders.clear();
        QVERIFY(waitForHttpConnections(0));
    }

    // Five clients pipeline 20,000 GET /metrics each and never read an answer.
    void pipelinedUnreadRequests_growTheServerByLessThan64MB()
    {
        QByteArray requests;
        for (int i = 0; i < 20000; ++i)
            requests += "GET /metrics HTTP/1.1\r\nHost: edgelens\r\n\r\n";
        const qint64 before = procStatusKb(pid(), "VmRSS");
        QVERIFY(resetPeakRss(pid()));
        std::vector<std::unique_ptr<QTcpSocket>> clients;
        for (int i = 0; i < 5; ++i) {
            auto socket = std::make_unique<QTcpSocket>();
            socket->setReadBufferSize(4096); // this client does not read its answers
            QVERIFY(connectFrom(*socket, m_http, loopback(2 + i)));
            socket->write(requests);
            clients.push_back(std::move(socket));
        }
        // The server answers until the answers back up, then stops reading: wait until it has
        // stopped sending (between two looks the counter grew by the first look's answer only).
        const auto look = [this](double *sent, qint64 *ownBytes) {
            const std::optional<RawHttpAnswer> answer =
                rawHttpRequest(m_http, "GET /metrics HTTP/1.1\r\nHost: edgelens\r\n\r\n");
            bool found = false;
            *sent = answer ? metric(answer->body, "edgelens_sent_bytes_total{protocol=\"http\"}", &found) : -1;
            *ownBytes = answer ? answer->head.size() + 4 + answer->body.size() : 0;
            return found;
        };
        double sentBefore = 0;
        double sentNow = 0;
        qint64 ownBefore = 0;
        qint64 ownNow = 0;
        QVERIFY(look(&sentNow, &ownNow));
        bool still = false;
        QDeadlineTimer deadline(120000);
        while (!deadline.hasExpired() && !still) {
            QTest::qWait(500);
            sentBefore = sentNow;
            ownBefore = ownNow;
            QVERIFY(look(&sentNow, &ownNow));
            still = sentNow - sentBefore == double(ownBefore);
        }
        QVERIFY(still);
        const qint64 peak = procStatusKb(pid(), "VmHWM");
        qInfo("5 x 20000 pipelined GET /metrics, unread: server VmRSS before %lld KiB, peak %lld KiB (+%lld KiB)",
              before, peak, peak - before);
        QVERIFY2(peak - before < kPipelineLimitKb, qPrintable(QString::number(peak - before)));
        for (const auto &client : clients)
            QCOMPARE(client->state(), QAbstractSocket::ConnectedState); // held back, not dropped
        clients.clear();
        QVERIFY(waitForHttpConnections(0));
    }

    void pipelinedAnswers_comeInRequestOrder()
    {
        const QByteArray small = solidImageBytes(64, 48, QColor(30, 120, 200));
        QTcpSocket socket;
        QVERIFY(connectFrom(socket, m_http));
        // A detection (slow) before quick ones: the quick ones must still come after it.
        socket.write(deepStackPost("/v1/vision/detection", m_image) + "GET /healthz HTTP/1.1\r\nHost: e\r\n\r\n"
                     + deepStackPost("/v1/vision/custom/list", QByteArray())
                     + deepStackPost("/v1/vision/detection", small)
                     + "GET /v1/status/updateavailable HTTP/1.1\r\nHost: e\r\n\r\n");
        QByteArray buffer;
        QList<RawHttpAnswer> answers;
        QTRY_VERIFY_WITH_TIMEOUT((buffer += socket.readAll(), answers += takeHttpAnswers(&buffer), answers.size() >= 5),
                                 60000);
        QCOMPARE(answers.size(), 5);
        const auto json = [&](int i) { return QJsonDocument::fromJson(answers.at(i).body).object(); };
        QVERIFY2(json(0).value(QStringLiteral("predictions")).toArray().size() >= 3, answers.at(0).body.constData());
        QCOMPARE(answers.at(1).body, QByteArray("ok\n"));
        QVERIFY(json(2).contains(QStringLiteral("models")));
        QCOMPARE(json(3).value(QStringLiteral("count")).toInt(-1), 0); // a plain colour: nothing found
        QVERIFY(json(4).contains(QStringLiteral("updateAvailable")));
    }

    void http10_isClosedRightAfterItsAnswer()
    {
        for (const QByteArray &request : {QByteArray("GET /healthz HTTP/1.0\r\n\r\n"),
                                          QByteArray("GET /healthz HTTP/1.1\r\nHost: e\r\nConnection: close\r\n\r\n")}) {
            QTcpSocket socket;
            QVERIFY(connectFrom(socket, m_http));
            QSignalSpy closed(&socket, &QTcpSocket::disconnected);
            socket.write(request);
            // The idle timeout is 30 s: a close before 20 s is the answer's, not the timeout's.
            QVERIFY2(closed.wait(20000) || !closed.isEmpty(), request.constData());
            QByteArray bytes = socket.readAll();
            const QList<RawHttpAnswer> answers = takeHttpAnswers(&bytes);
            QCOMPARE(answers.size(), 1);
            QCOMPARE(answers.first().status, 200);
            QCOMPARE(answers.first().header("connection").toLower(), QByteArray("close"));
        }
    }

    // Clients that send detections and go away before the answers: the queued ones are
    // cancelled, every one is counted, nothing stays in flight, and SIGTERM does not wait for them.
    void abandonedRequests_areCancelledAndLeaveTheGauge()
    {
        const QByteArray before = metrics();
        const double requestsBefore = metric(before, "edgelens_requests_total{protocol=\"http\",outcome=\"ok\"}")
            + metric(before, "edgelens_requests_total{protocol=\"http\",outcome=\"error\"}");
        std::vector<std::unique_ptr<QTcpSocket>> clients;
        const int sent = 6;
        for (int i = 0; i < sent; ++i) {
            auto socket = std::make_unique<QTcpSocket>();
            QVERIFY(connectFrom(*socket, m_http));
            socket->write(deepStackPost("/v1/vision/detection", m_image));
            QVERIFY(socket->waitForBytesWritten(5000));
            clients.push_back(std::move(socket));
        }
        // One worker: once one waits in the queue, they are not all done.
        QTRY_VERIFY_WITH_TIMEOUT(series("edgelens_queue_depth") > 0, 30000);
        clients.clear(); // every client goes away

        QByteArray after;
        QTRY_VERIFY_WITH_TIMEOUT((after = metrics(),
                                  metric(after, "edgelens_requests_total{protocol=\"http\",outcome=\"ok\"}")
                                          + metric(after, "edgelens_requests_total{protocol=\"http\",outcome=\"error\"}")
                                          - requestsBefore
                                      == sent),
                                 30000);
        bool found = false;
        QCOMPARE(metric(after, "edgelens_requests_in_flight{protocol=\"http\"}", &found), 0.0);
        QVERIFY(found);
        QVERIFY(metric(after, "edgelens_request_errors_total{protocol=\"http\",code=\"cancelled\"}", &found) > 0);
        QVERIFY(found);
        QTRY_COMPARE_WITH_TIMEOUT(series("edgelens_queue_depth"), 0.0, 30000);

        m_server.stop();
        QVERIFY2(!m_server.log().contains(QStringLiteral("shutdown timeout")), qPrintable(m_server.log().right(2000)));
    }
};

QTEST_GUILESS_MAIN(TestHttpAttacks)
#include "tst_httpattacks.moc"
