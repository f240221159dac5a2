// edgelens-cli --protocol deepstack against a real edgelens-server's HTTP port: the samples are
// processed, JPEG + JSON written as for v2, and the boxes match a v2 run of the same images on
// the same server (same model) within a pixel.
#include "isolateduserstate.h"
#include "processrunner.h"
#include "serverprocess.h"
#include "testdata.h"

#include <QDir>
#include <QDirIterator>
#include <QEventLoop>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QTimer>
#include <QFileInfo>
#include <QImageReader>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

using namespace edgelens;

namespace {

QJsonObject readJson(const QString &path)
{
    return QJsonDocument::fromJson(test::readFile(path)).object();
}

QRectF boxOf(const QJsonObject &detection)
{
    const QJsonArray box = detection.value(QStringLiteral("box")).toArray();
    return QRectF(box.at(0).toDouble(), box.at(1).toDouble(), box.at(2).toDouble(), box.at(3).toDouble());
}

} // namespace

class TestDeepStackCli final : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void samples_matchV2RunWithinAPixel();
    void wrongToken_failsEveryImageWithApiKeyMessage();
    void deepstackWithoutHost_isUsageError();
    void httpsPort_servesWithTheTlsCertificate_andPinsAreChecked();

private:
    test::ProcessRun cli(const QStringList &arguments);

    test::IsolatedUserState m_user;
    test::ServerProcess m_server;
    quint16 m_httpPort = 0;
};

void TestDeepStackCli::initTestCase()
{
    QVERIFY(m_user.isValid());
    EDGELENS_REQUIRE_SHARED("data/samples/soccer.jpg");
    EDGELENS_REQUIRE_SHARED("models/nanodet-m-320");
    QVERIFY2(m_server.start({QStringLiteral("--http-port"), QStringLiteral("0"), QStringLiteral("--token"),
                             QStringLiteral("k3y")},
                            m_user.childEnvironment()),
             qPrintable(m_server.diagnostics()));
    m_httpPort = quint16(m_server.stdoutCapture(QStringLiteral("^http listening on \\S+:(\\d+)$")).toUInt());
    QVERIFY2(m_httpPort != 0, qPrintable(m_server.out()));
}

test::ProcessRun TestDeepStackCli::cli(const QStringList &arguments)
{
    test::ProcessOptions options;
    options.environment = m_user.childEnvironment();
    options.environment.insert(QStringLiteral("EDGELENS_TOKEN"), QString());
    options.timeoutMs = 180000;
    return test::runProcess(test::executablePath(QStringLiteral("edgelens-cli")), arguments, options);
}

void TestDeepStackCli::samples_matchV2RunWithinAPixel()
{
    QTemporaryDir out;
    QVERIFY(out.isValid());
    const QString v2Dir = out.filePath(QStringLiteral("v2"));
    const QString httpDir = out.filePath(QStringLiteral("http"));
    const QStringList common{test::samplesDir(), QStringLiteral("--json"), QStringLiteral("--conf"),
                             QStringLiteral("0.4"), QStringLiteral("--token"), QStringLiteral("k3y"),
                             QStringLiteral("--quiet")};
    const test::ProcessRun v2 = cli(common + QStringList{QStringLiteral("--host"),
                                                        QStringLiteral("127.0.0.1:%1").arg(m_server.port()),
                                                        QStringLiteral("--protocol"), QStringLiteral("v2"),
                                                        QStringLiteral("--output"), v2Dir});
    QVERIFY2(v2.exitCode == 0, qPrintable(v2.out + v2.err));
    const QString httpDevice = QStringLiteral("127.0.0.1:%1").arg(m_httpPort);
    const test::ProcessRun http = cli(common + QStringList{QStringLiteral("--host"), httpDevice,
                                                          QStringLiteral("--protocol"), QStringLiteral("deepstack"),
                                                          QStringLiteral("--output"), httpDir});
    QVERIFY2(http.exitCode == 0, qPrintable(http.out + http.err));
    QVERIFY2(http.out.contains(QStringLiteral("9 images, 0 failed")), qPrintable(http.out));

    const QStringList sidecars = test::filesUnder(v2Dir, {QStringLiteral("*.json")});
    QCOMPARE(sidecars.size(), 9);
    QCOMPARE(test::filesUnder(httpDir, {QStringLiteral("*.json")}), sidecars);
    int boxes = 0;
    for (const QString &name : sidecars) {
        const QJsonObject a = readJson(v2Dir + QLatin1Char('/') + name);
        const QJsonObject b = readJson(httpDir + QLatin1Char('/') + name);
        QCOMPARE(b.value(QStringLiteral("protocol")).toString(), QStringLiteral("deepstack"));
        QCOMPARE(b.value(QStringLiteral("device")).toString(), httpDevice);
        QCOMPARE(b.value(QStringLiteral("has_detection_data")).toBool(), true);
        QCOMPARE(b.value(QStringLiteral("model")).toString(), a.value(QStringLiteral("model")).toString());
        QCOMPARE(b.value(QStringLiteral("width")).toInt(), a.value(QStringLiteral("width")).toInt());
        QCOMPARE(b.value(QStringLiteral("height")).toInt(), a.value(QStringLiteral("height")).toInt());
        // v2 sends every detection; DeepStack sorts by confidence: compare as sets, matched greedily.
        QJsonArray fromV2 = a.value(QStringLiteral("detections")).toArray();
        const QJsonArray fromHttp = b.value(QStringLiteral("detections")).toArray();
        QVERIFY2(fromV2.size() == fromHttp.size(),
                 qPrintable(QStringLiteral("%1: v2 %2 detections, http %3").arg(name).arg(fromV2.size()).arg(fromHttp.size())));
        for (const QJsonValue &value : fromHttp) {
            const QJsonObject d = value.toObject();
            const QRectF box = boxOf(d);
            qsizetype match = -1;
            for (qsizetype i = 0; i < fromV2.size(); ++i) {
                const QJsonObject e = fromV2.at(i).toObject();
                const QRectF other = boxOf(e);
                if (e.value(QStringLiteral("label")) == d.value(QStringLiteral("label"))
                    && qAbs(box.left() - other.left()) <= 1.0 && qAbs(box.top() - other.top()) <= 1.0
                    && qAbs(box.right() - other.right()) <= 1.0 && qAbs(box.bottom() - other.bottom()) <= 1.0
                    && qAbs(d.value(QStringLiteral("confidence")).toDouble()
                            - e.value(QStringLiteral("confidence")).toDouble()) < 0.0015) {
                    match = i;
                    break;
                }
            }
            QVERIFY2(match >= 0, qPrintable(QStringLiteral("%1: no v2 box within a pixel of %2 %3,%4 %5x%6")
                                                .arg(name, d.value(QStringLiteral("label")).toString())
                                                .arg(box.x())
                                                .arg(box.y())
                                                .arg(box.width())
                                                .arg(box.height())));
            fromV2.removeAt(match);
            ++boxes;
        }
        // The marked-up JPEG is drawn locally on the original.
        const QString jpeg = httpDir + QLatin1Char('/') + QFileInfo(name).completeBaseName() + QStringLiteral(".jpg");
        QImageReader reader(jpeg);
        QCOMPARE(reader.size(), QSize(b.value(QStringLiteral("width")).toInt(),
                                      b.value(QStringLiteral("height")).toInt()));
    }
    QVERIFY2(boxes >= 9, qPrintable(QStringLiteral("only %1 boxes in the nine samples").arg(boxes)));
}

void TestDeepStackCli::wrongToken_failsEveryImageWithApiKeyMessage()
{
    QTemporaryDir out;
    QVERIFY(out.isValid());
    const test::ProcessRun run = cli({test::samplePath(QStringLiteral("soccer.jpg")), QStringLiteral("--host"),
                                      QStringLiteral("127.0.0.1:%1").arg(m_httpPort), QStringLiteral("--protocol"),
                                      QStringLiteral("deepstack"), QStringLiteral("--token"), QStringLiteral("nope"),
                                      QStringLiteral("--output"), out.path()});
    QCOMPARE(run.exitCode, 1);
    QVERIFY2(run.err.contains(QStringLiteral("soccer.jpg: FAILED")), qPrintable(run.err));
    QVERIFY2(run.err.contains(QStringLiteral("API key")), qPrintable(run.err));
    QVERIFY2(run.out.contains(QStringLiteral("1 images, 1 failed")), qPrintable(run.out));
    QVERIFY(test::filesUnder(out.path()).isEmpty());
}

void TestDeepStackCli::deepstackWithoutHost_isUsageError()
{
    QTemporaryDir out;
    const test::ProcessRun run = cli({test::samplePath(QStringLiteral("soccer.jpg")), QStringLiteral("--protocol"),
                                      QStringLiteral("deepstack"), QStringLiteral("--output"), out.path()});
    QCOMPARE(run.exitCode, 64);
    QVERIFY2(run.err.contains(QStringLiteral("--protocol deepstack needs --host")), qPrintable(run.err));
}

void TestDeepStackCli::httpsPort_servesWithTheTlsCertificate_andPinsAreChecked()
{
    test::ServerProcess tls;
    QVERIFY2(tls.start({QStringLiteral("--tls"), QStringLiteral("--http-port"), QStringLiteral("0")},
                       m_user.childEnvironment()),
             qPrintable(tls.diagnostics()));
    const QString fingerprint = tls.stdoutCapture(QStringLiteral("^tls certificate (sha256:[0-9a-f]{64})$"));
    const quint16 port = quint16(tls.stdoutCapture(QStringLiteral("^https listening on \\S+:(\\d+)$")).toUInt());
    QVERIFY2(!fingerprint.isEmpty() && port != 0, qPrintable(tls.out()));

    // What curl --cacert does: the server's own certificate (self-signed, for 127.0.0.1) as the CA.
    QString certificatePath;
    QDirIterator files(m_user.path(), {QStringLiteral("server-cert.pem")}, QDir::Files, QDirIterator::Subdirectories);
    if (files.hasNext())
        certificatePath = files.next();
    const QList<QSslCertificate> ca = QSslCertificate::fromPath(certificatePath);
    QVERIFY2(ca.size() == 1, qPrintable(certificatePath));
    auto get = [&](const QString &url, const QList<QSslCertificate> &cas) {
        QNetworkAccessManager manager; // a connection of its own each time
        QNetworkRequest request{QUrl(url)};
        if (!cas.isEmpty()) {
            QSslConfiguration config = QSslConfiguration::defaultConfiguration();
            config.setCaCertificates(cas);
            request.setSslConfiguration(config);
        }
        QNetworkReply *reply = manager.get(request);
        QEventLoop loop;
        connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
        QTimer::singleShot(20000, &loop, &QEventLoop::quit);
        loop.exec();
        const auto answer = std::make_pair(
            reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(),
            QString::fromLatin1(reply->sslConfiguration().peerCertificate().digest(QCryptographicHash::Sha256).toHex()));
        delete reply;
        return answer;
    };
    const auto healthz = get(QStringLiteral("https://127.0.0.1:%1/healthz").arg(port), ca);
    QCOMPARE(healthz.first, 200);
    QCOMPARE(QStringLiteral("sha256:") + healthz.second, fingerprint); // the v2 port's certificate
    QCOMPARE(get(QStringLiteral("https://127.0.0.1:%1/healthz").arg(port), {}).first, 0); // system CAs only: not trusted
    QCOMPARE(get(QStringLiteral("http://127.0.0.1:%1/healthz").arg(port), ca).first, 0);  // no plaintext HTTP

    QTemporaryDir out;
    QVERIFY(out.isValid());
    const QStringList base{test::samplePath(QStringLiteral("soccer.jpg")), QStringLiteral("--host"),
                           QStringLiteral("127.0.0.1:%1").arg(port), QStringLiteral("--protocol"),
                           QStringLiteral("deepstack"), QStringLiteral("--json"), QStringLiteral("--output")};
    const test::ProcessRun pinned = cli(base + QStringList{out.filePath(QStringLiteral("ok")),
                                                           QStringLiteral("--tls-fingerprint"), fingerprint});
    QVERIFY2(pinned.exitCode == 0, qPrintable(pinned.out + pinned.err));
    const QJsonObject sidecar = readJson(out.filePath(QStringLiteral("ok/soccer.json")));
    int people = 0;
    for (const QJsonValue &d : sidecar.value(QStringLiteral("detections")).toArray())
        people += d.toObject().value(QStringLiteral("label")).toString() == QLatin1String("person");
    QVERIFY2(people >= 2, qPrintable(QString::fromUtf8(QJsonDocument(sidecar).toJson())));

    const QString wrong = QStringLiteral("sha256:") + QString(64, QLatin1Char('0'));
    const test::ProcessRun refused = cli(base + QStringList{out.filePath(QStringLiteral("refused")),
                                                            QStringLiteral("--tls-fingerprint"), wrong});
    QCOMPARE(refused.exitCode, 1);
    QVERIFY2(refused.err.contains(QStringLiteral("pinned fingerprint")), qPrintable(refused.err));
    QVERIFY(test::filesUnder(out.filePath(QStringLiteral("refused"))).isEmpty());
}

QTEST_GUILESS_MAIN(TestDeepStackCli)
#include "tst_deepstackcli.moc"
