#include "serverthread.h"

#include "blockingclients.h"
#include "metricsamples.h"

#include "metrics/servermetrics.h"
#include "net/detectionservice.h"

#include <QDebug>
#include <QTest>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

namespace edgelens::test {

using namespace protocol;

std::unique_ptr<ServerThread> ServerThread::started(const ServerConfig &config)
{
    auto server = std::make_unique<ServerThread>();
    QString error;
    if (!server->start(config, &error)) {
        qWarning().noquote() << "server did not start:" << error;
        return nullptr;
    }
    return server;
}

bool ServerThread::start(const ServerConfig &config, QString *error)
{
    m_thread.start();
    m_server = new DetectionServer;
    m_server->moveToThread(&m_thread);
    bool ok = false;
    QMetaObject::invokeMethod(
        m_server,
        [&] {
            ok = m_server->start(config, error);
            m_port = m_server->serverPort();
            m_info = m_server->serverInfo();
        },
        Qt::BlockingQueuedConnection);
    return ok;
}

void ServerThread::drain(int timeoutMs)
{
    QMetaObject::invokeMethod(m_server, [this, timeoutMs] { m_server->drain(timeoutMs); });
}

void ServerThread::shutDown()
{
    if (m_server) {
        QMetaObject::invokeMethod(m_server, [s = m_server] { delete s; }, Qt::BlockingQueuedConnection);
        m_server = nullptr;
    }
    m_thread.quit();
    m_thread.wait();
}

double ServerThread::metric(const QString &series) const
{
    return metricValue(m_server->service()->metrics()->exposition(), series);
}

bool ServerThread::noConnectionsOpen() const
{
    return metric(QStringLiteral("edgelens_open_connections{protocol=\"legacy\"}")) == 0
        && metric(QStringLiteral("edgelens_open_connections{protocol=\"v2\"}")) == 0;
}

void ServerThread::verifyStillServing(const QByteArray &goodImage) const
{
    V2Client client;
    QVERIFY(client.connectTo(m_port));
    const std::optional<Message> reply = client.request(makeDetect(77, {}, goodImage));
    QVERIFY(reply);
    QCOMPARE(reply->type, MessageType::Result);
    QCOMPARE(reply->requestId, 77u);
    QVERIFY(jpegImageSize(reply->blob).isValid());
    const LegacyReply legacy = legacyRequest(m_port, encodeLegacyFrame(goodImage));
    QVERIFY(legacy.replied);
    QVERIFY(jpegImageSize(legacy.jpeg).isValid());
}

ServerConfig embeddedTestConfig()
{
    ServerConfig config = ServerConfig::embedded();
    config.modelPaths = {QStringLiteral("nanodet-m-320")};
    config.workers = 2;
    config.idleTimeoutMs = 5000;
    return config;
}

QSize decodedImageSize(const QByteArray &bytes)
{
    const cv::Mat image =
        cv::imdecode(cv::Mat(1, int(bytes.size()), CV_8UC1, const_cast<char *>(bytes.data())), cv::IMREAD_COLOR);
    return image.empty() ? QSize() : QSize(image.cols, image.rows);
}

QSize jpegImageSize(const QByteArray &bytes)
{
    return bytes.startsWith("\xFF\xD8\xFF") ? decodedImageSize(bytes) : QSize();
}

} // namespace edgelens::test
