// The app with several devices and with TLS, end to end and offscreen: the main window gets its
// settings, real servers run in the test (DetectionServer in this process, with TLS where
// needed, or edgelens-server processes that can be killed), and the test checks what a user
// would: the trust dialogs and the fingerprints they show, the known-devices file, the status
// bar's device states, the gallery's "by DEVICE" and the `device` in the sidecars.

#include "flakyserver.h"
#include "metricsamples.h"
#include "serverprocess.h"
#include "testdata.h"

#include "client/detectionclient.h"
#include "client/knowndevices.h"
#include "appoptions.h"
#include "embeddedserver.h"
#include "englishplurals.h"
#include "gallerydelegate.h"
#include "gallerymodel.h"
#include "mainwindow.h"
#include "mainwindowparts.h"
#include "models/modelcatalog.h"
#include "net/detectionserver.h"
#include "net/detectionservice.h"
#include "processingqueue.h"
#include "resultsfolder.h"
#include "statuspresenter.h"
#include "targetcontroller.h"
#include "widgets/appsettings.h"
#include "widgets/devicetrustdialog.h"

#include <QAction>
#include <QApplication>
#include <QDir>
#include <QFile>
#include <QImage>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QPushButton>
#include <QRegularExpression>
#include <QSet>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using namespace edgelens;
using edgelens::test::ServerProcess;

namespace {

QStringList writeColourImages(const QTemporaryDir &dir, const QString &namePattern, int count)
{
    QStringList paths;
    for (int i = 0; i < count; ++i) {
        QImage image(96, 72, QImage::Format_RGB32);
        image.fill(QColor::fromHsv((i * 37) % 360, 200, 200));
        paths << QFileInfo(dir.filePath(namePattern.arg(i))).absoluteFilePath();
        if (!image.save(paths.last()))
            return {};
    }
    return paths;
}

AppSettings::Device device(quint16 port, bool tls = false, AppSettings::Protocol protocol = AppSettings::Protocol::V2)
{
    AppSettings::Device d;
    d.host = QStringLiteral("127.0.0.1");
    d.port = port;
    d.protocol = protocol;
    d.tls = tls;
    return d;
}

AppSettings remoteSettings(const QList<AppSettings::Device> &devices, const QTemporaryDir &dir)
{
    AppSettings settings;
    settings.target = AppSettings::Target::Remote;
    settings.setDevices(devices);
    settings.outputDir = dir.filePath(QStringLiteral("out"));
    settings.token = QString(); // no keyring in the test: nothing to wait for
    return settings;
}

// A scripted device on an ephemeral loopback port that answers after delayMs.
bool listening(FlakyServer &server, int delayMs)
{
    server.replyDelayMs = delayMs;
    return server.listen();
}

// What most cases set up: count generated images in a temporary folder and the settings that
// send them to the devices, results in <dir>/out.
struct Batch
{
    QTemporaryDir dir;
    QStringList paths; // empty when an image could not be written
    AppSettings settings;

    Batch(const QString &namePattern, int count, const QList<AppSettings::Device> &devices)
        : paths(writeColourImages(dir, namePattern, count))
        , settings(remoteSettings(devices, dir))
    {
    }
    QString outDir() const { return dir.filePath(QStringLiteral("out")); }
};

QString name(quint16 port)
{
    return QStringLiteral("127.0.0.1:%1").arg(port);
}

// A visible top-level window of that object name (a dialog the app opened), or null.
template <typename T>
T *openWindow(const QString &objectName)
{
    const QList<QWidget *> windows = QApplication::topLevelWidgets();
    for (QWidget *w : windows) {
        if (w->objectName() == objectName && w->isVisible()) {
            if (auto *t = qobject_cast<T *>(w))
                return t;
        }
    }
    return nullptr;
}

// The trust question ("trustDeviceDialog") or warning the app opens, once it is open; null
// when it did not open within 30 s.
DeviceTrustDialog *waitForTrustDialog(const QString &objectName = QStringLiteral("trustDeviceDialog"))
{
    DeviceTrustDialog *dialog = nullptr;
    const bool opened = QTest::qWaitFor([&] { return (dialog = openWindow<DeviceTrustDialog>(objectName)) != nullptr; }, 30000);
    return opened ? dialog : nullptr;
}

// Clicks the dialog's button of that object name; false when it has none.
bool press(QWidget *dialog, const QString &buttonName)
{
    auto *button = dialog->findChild<QPushButton *>(buttonName);
    if (!button)
        return false;
    QTest::mouseClick(button, Qt::LeftButton);
    return true;
}

QString labelText(QWidget *dialog, const QString &objectName)
{
    auto *label = dialog->findChild<QLabel *>(objectName);
    return label ? label->text() : QStringLiteral("<no label %1>").arg(objectName);
}

// device -> how many sidecars name it, over every sidecar in the output folder.
QHash<QString, int> sidecarDevices(const QString &outDir, int *sidecars)
{
    QHash<QString, int> devices;
    const QStringList files = test::filesUnder(outDir, {QStringLiteral("*.json")});
    *sidecars = int(files.size());
    for (const QString &file : files) {
        const QJsonObject object = QJsonDocument::fromJson(test::readFile(QDir(outDir).filePath(file))).object();
        ++devices[object.value(QStringLiteral("device")).toString()];
    }
    return devices;
}

double receivedBytes(DetectionServer &server)
{
    // Every protocol's bytes after the TLS layer: nothing here means no image reached it. The
    // series exist from the start; if they did not, the sum is NaN and every check of it fails.
    return test::metricSum(server.service()->metrics()->exposition(), QStringLiteral("edgelens_received_bytes_total"));
}

} // namespace

class TestAppDevices : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_settingsDir;
    EnglishPlurals m_plurals;

    // A real device server in this process on 127.0.0.1 (TLS with the self-signed certificate it
    // creates in the test's per-user data folder).
    std::unique_ptr<DetectionServer> startServer(bool tls, const QString &token = QString())
    {
        ServerConfig config = ServerConfig::embedded();
        config.tls = tls;
        config.token = token;
        config.workers = 1;
        if (const auto model = ModelCatalog().defaultModel())
            config.modelPaths = {model->name};
        auto server = std::make_unique<DetectionServer>();
        QString error;
        if (!server->start(config, &error)) {
            qWarning().noquote() << "server did not start:" << error;
            return nullptr;
        }
        return server;
    }

private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        // No keyring here: the token store must not reach a developer's own.
        qputenv("DBUS_SESSION_BUS_ADDRESS", "disabled:");
        QCoreApplication::installTranslator(&m_plurals);
        QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, m_settingsDir.path());
        QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, m_settingsDir.path());
        QCoreApplication::setOrganizationName(QStringLiteral("EdgeLensTest"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_appdevices"));
        EDGELENS_REQUIRE(ModelCatalog().defaultModel().has_value(), "a detection model (../shared/models)");
    }

    void init()
    {
        QFile::remove(KnownDevices::defaultPath());
        DetectionClient::forgetDetectedProtocols();
    }

    void deviceList_reachesTheClientAsOnePool()
    {
        QTemporaryDir dir;
        AppSettings::Device legacy = device(6001, false, AppSettings::Protocol::Legacy);
        AppSettings::Device tls = device(6002, true, AppSettings::Protocol::Auto);
        AppSettings::Device off = device(6003);
        off.host = QStringLiteral("[::1]");
        off.enabled = false;
        const AppSettings settings = remoteSettings({legacy, tls, off}, dir);
        MainWindow window(settings);
        const QList<DeviceSpec> specs = window.parts().client()->devices();
        QCOMPARE(specs.size(), 3);
        QCOMPARE(specs.at(0).name(), name(6001));
        QCOMPARE(specs.at(0).protocol, DeviceSpec::Protocol::Legacy);
        QVERIFY(!specs.at(0).tls);
        QCOMPARE(specs.at(1).protocol, DeviceSpec::Protocol::Auto);
        QVERIFY(specs.at(1).tls);
        QCOMPARE(specs.at(2).host, QStringLiteral("::1"));
        QCOMPARE(specs.at(2).name(), QStringLiteral("[::1]:6003"));
        QVERIFY(!specs.at(2).enabled);
        QCOMPARE(window.parts().client()->deviceStatuses().at(2).state, DeviceStatus::State::Disabled);
        QCOMPARE(window.parts().status()->targetText(), QStringLiteral("2 devices"));
        QVERIFY2(window.parts().status()->devicesText().contains(QStringLiteral("[::1]:6003: disabled")),
                 qPrintable(window.parts().status()->devicesText()));

        // Removing one device and turning another off reaches the client the same way.
        AppSettings changed = settings;
        AppSettings::Device tlsOff = tls;
        tlsOff.enabled = false;
        changed.setDevices({tlsOff, off});
        window.applySettings(changed);
        const QList<DeviceSpec> after = window.parts().client()->devices();
        QCOMPARE(after.size(), 2);
        QVERIFY(!after.at(0).enabled && after.at(0).tls);
        QVERIFY(!window.parts().queue()->isTargetReady()); // nothing enabled: images would wait
    }

    void twoDevices_resultsFromBoth_statusShowsEach_killedDeviceWorkEndsOnTheOther()
    {
        ServerProcess a;
        ServerProcess b;
        QVERIFY2(a.start({QStringLiteral("--threads"), QStringLiteral("1")}), qPrintable(a.diagnostics()));
        QVERIFY2(b.start({QStringLiteral("--threads"), QStringLiteral("1")}), qPrintable(b.diagnostics()));
        const int count = 60;
        Batch batch(QStringLiteral("pool%1.jpg"), count, {device(a.port()), device(b.port())});
        QCOMPARE(batch.paths.size(), count);
        batch.settings.maxInFlight = 2;
        MainWindow window(batch.settings);
        window.show();
        QCOMPARE(window.parts().status()->targetText(), QStringLiteral("2 devices"));
        window.addPaths(batch.paths);

        // Both work: the status bar says so, with each one's count.
        const auto statuses = [&window] { return window.parts().client()->deviceStatuses(); };
        QTRY_VERIFY_WITH_TIMEOUT(statuses().at(0).done >= 2 && statuses().at(1).done >= 2, 60000);
        const QString both = window.parts().status()->devicesText();
        QVERIFY2(both.contains(name(a.port()) + QStringLiteral(": up")) && both.contains(name(b.port()) + QStringLiteral(": up")),
                 qPrintable(both));
        QVERIFY2(both.contains(QStringLiteral(" done")), qPrintable(both));
        QVERIFY2(window.parts().queue()->isBusy(), "the run ended before a device could be killed: give it more images");

        a.kill(); // SIGKILL: the device dies with work in flight
        QTRY_VERIFY2_WITH_TIMEOUT(
            QRegularExpression(QRegularExpression::escape(name(a.port())) + QStringLiteral(": (down|probing)"))
                .match(window.parts().status()->devicesText())
                .hasMatch(),
            qPrintable(window.parts().status()->devicesText()), 30000);

        QTRY_VERIFY_WITH_TIMEOUT(!window.parts().queue()->isBusy(), 180000);
        QCOMPARE(window.galleryModel()->count(GalleryItem::Status::Failed), 0);
        QCOMPARE(window.galleryModel()->count(GalleryItem::Status::Done), count);
        QVERIFY2(window.parts().status()->devicesText().contains(name(a.port()) + QStringLiteral(": down")),
                 qPrintable(window.parts().status()->devicesText()));
        QVERIFY2(window.parts().status()->devicesText().contains(name(b.port()) + QStringLiteral(": up")),
                 qPrintable(window.parts().status()->devicesText()));

        // Every image once, each sidecar naming the device that answered: both did.
        int sidecars = 0;
        const QHash<QString, int> byDevice = sidecarDevices(batch.outDir(), &sidecars);
        QCOMPARE(sidecars, count);
        QCOMPARE(test::filesUnder(batch.outDir(), {QStringLiteral("*.jpg")}).size(), count);
        QVERIFY2(byDevice.value(name(a.port())) >= 2 && byDevice.value(name(b.port())) >= 2,
                 qPrintable(QStringList(byDevice.keys()).join(QLatin1Char(','))));
        QCOMPARE(byDevice.value(name(a.port())) + byDevice.value(name(b.port())), count);

        // The gallery says which device produced each result, as the cell and its tooltip read.
        QSet<QString> shown;
        GalleryModel *model = window.galleryModel();
        for (int row = 0; row < model->rowCount(); ++row) {
            const QModelIndex index = model->index(row);
            const QString device = index.data(GalleryModel::DeviceRole).toString();
            QVERIFY2(GalleryDelegate::statusLine(index).endsWith(QStringLiteral("by ") + device),
                     qPrintable(GalleryDelegate::statusLine(index)));
            QVERIFY(index.data(Qt::ToolTipRole).toString().contains(QStringLiteral("Detected by ") + device));
            shown << device;
        }
        QCOMPARE(shown, (QSet<QString>{name(a.port()), name(b.port())}));
    }

    void allDevicesDown_queueHoldsAndSaysSo_resumesWhenOneComesBack()
    {
        FlakyServer first;
        FlakyServer second;
        QVERIFY(listening(first, 150));
        QVERIFY(listening(second, 150));
        const int count = 16;
        Batch batch(QStringLiteral("outage%1.jpg"), count, {device(first.port()), device(second.port())});
        batch.settings.maxInFlight = 1;
        MainWindow window(batch.settings);
        window.addPaths(batch.paths);
        QTRY_VERIFY_WITH_TIMEOUT(window.galleryModel()->count(GalleryItem::Status::Done) >= 2, 30000);

        first.stop();
        second.stop();
        QTRY_VERIFY2_WITH_TIMEOUT(window.parts().status()->devicesText().startsWith(QStringLiteral("All devices down, images wait")),
                                  qPrintable(window.parts().status()->devicesText()), 30000);
        QVERIFY(window.parts().queue()->isBusy());
        QCOMPARE(window.galleryModel()->count(GalleryItem::Status::Failed), 0); // holding, not failing
        const int doneWhileDown = window.galleryModel()->count(GalleryItem::Status::Done);
        QVERIFY(doneWhileDown < count);

        // One comes back on its port: everything left goes there, nothing fails.
        QVERIFY(second.listen(second.port()));
        QTRY_VERIFY_WITH_TIMEOUT(!window.parts().queue()->isBusy(), 120000);
        QCOMPARE(window.galleryModel()->count(GalleryItem::Status::Done), count);
        QCOMPARE(window.galleryModel()->count(GalleryItem::Status::Failed), 0);
        QVERIFY(second.answered >= 1);
        const QString states = window.parts().status()->devicesText();
        QVERIFY2(!states.startsWith(QStringLiteral("All devices down")), qPrintable(states));
        QVERIFY2(states.contains(name(second.port()) + QStringLiteral(": up")), qPrintable(states));
    }

    void token_fromTheStore_isUsedForEveryDevice_aWrongOneShowsRefused()
    {
        const auto one = startServer(false, QStringLiteral("s3cret-token"));
        const auto two = startServer(false, QStringLiteral("s3cret-token"));
        QVERIFY(one && two);
        // Where no keyring runs, TokenStore keeps the token in the settings file: put it there.
        {
            QSettings store(QStringLiteral("EdgeLens"), QStringLiteral("EdgeLens"));
            store.setValue(QStringLiteral("connection/token"), QStringLiteral("s3cret-token"));
        }
        const int count = 8;
        Batch batch(QStringLiteral("token%1.jpg"), count, {device(one->serverPort()), device(two->serverPort())});
        batch.settings.token.reset(); // as at start: the token comes from the store
        batch.settings.maxInFlight = 1;
        MainWindow window(batch.settings);
        QTRY_COMPARE_WITH_TIMEOUT(window.parts().target()->token(), QStringLiteral("s3cret-token"), 10000);
        window.addPaths(batch.paths);
        QTRY_VERIFY_WITH_TIMEOUT(!window.parts().queue()->isBusy() && window.galleryModel()->rowCount() == count, 120000);
        QCOMPARE(window.galleryModel()->count(GalleryItem::Status::Done), count);
        QSet<QString> devices;
        for (const GalleryItem &item : window.galleryModel()->items())
            devices << item.device;
        QCOMPARE(devices, (QSet<QString>{name(one->serverPort()), name(two->serverPort())}));

        // Another token: both devices refuse the session, the images fail saying why.
        AppSettings wrong = window.settings();
        wrong.token = QStringLiteral("not-the-token");
        window.applySettings(wrong);
        window.parts().queue()->enqueue({window.galleryModel()->item(0).path});
        QTRY_COMPARE_WITH_TIMEOUT(window.galleryModel()->count(GalleryItem::Status::Failed), 1, 60000);
        const QString states = window.parts().status()->devicesText();
        QVERIFY2(states.contains(name(one->serverPort()) + QStringLiteral(": refused"))
                     && states.contains(name(two->serverPort()) + QStringLiteral(": refused")),
                 qPrintable(states));
        QVERIFY2(window.galleryModel()->item(0).error.contains(QStringLiteral("token"), Qt::CaseInsensitive),
                 qPrintable(window.galleryModel()->item(0).error));
        QSettings(QStringLiteral("EdgeLens"), QStringLiteral("EdgeLens")).remove(QStringLiteral("connection/token"));
    }

    void legacyAndV2DevicesInOnePool_bothServe()
    {
        FlakyServer legacy(/*legacy=*/true);
        FlakyServer v2;
        QVERIFY(listening(legacy, 100));
        QVERIFY(listening(v2, 100));
        const int count = 12;
        Batch batch(QStringLiteral("mixed%1.jpg"), count,
                    {device(legacy.port(), false, AppSettings::Protocol::Auto), device(v2.port())});
        batch.settings.maxInFlight = 1;
        MainWindow window(batch.settings);
        window.addPaths(batch.paths);
        QTRY_VERIFY_WITH_TIMEOUT(!window.parts().queue()->isBusy() && window.galleryModel()->rowCount() == count, 60000);
        QCOMPARE(window.galleryModel()->count(GalleryItem::Status::Done), count);
        QHash<QString, int> byDevice;
        for (const GalleryItem &item : window.galleryModel()->items())
            ++byDevice[item.device];
        QVERIFY2(byDevice.value(name(legacy.port())) >= 1 && byDevice.value(name(v2.port())) >= 1,
                 qPrintable(QStringList(byDevice.keys()).join(QLatin1Char(','))));
        QCOMPARE(byDevice.value(name(legacy.port())) + byDevice.value(name(v2.port())), count);
    }

    void embeddedJoins_localMachineHelpsTheDevice_shownAsThisComputer()
    {
        FlakyServer slow;
        // Enough images that the embedded server cannot finish them all before the device's
        // first answer arrives, even on a quiet machine (24 took under 0.8 s there).
        QVERIFY(listening(slow, 400));
        const int count = 80;
        Batch batch(QStringLiteral("joined%1.jpg"), count, {device(slow.port())});
        batch.settings.embeddedJoins = true;
        batch.settings.maxInFlight = 2;
        MainWindow window(batch.settings);
        QVERIFY2(window.parts().status()->targetText().endsWith(QStringLiteral("+ this computer")),
                 qPrintable(window.parts().status()->targetText()));
        window.addPaths(batch.paths);
        QTRY_VERIFY_WITH_TIMEOUT(!window.parts().queue()->isBusy() && window.galleryModel()->rowCount() == count, 180000);
        QCOMPARE(window.galleryModel()->count(GalleryItem::Status::Done), count);
        QHash<QString, int> shown;
        for (const GalleryItem &item : window.galleryModel()->items())
            ++shown[window.galleryModel()->deviceDisplayName(item.device)];
        QVERIFY2(shown.value(QStringLiteral("this computer")) >= 1 && shown.value(name(slow.port())) >= 1,
                 qPrintable(QStringList(shown.keys()).join(QLatin1Char(','))));
        QVERIFY2(window.parts().status()->devicesText().contains(QStringLiteral("this computer: up")),
                 qPrintable(window.parts().status()->devicesText()));
    }

    void embeddedResults_keepTheirNameAfterARestart_olderSidecarsStillOpen()
    {
        QTemporaryDir dir;
        const QStringList paths = writeColourImages(dir, QStringLiteral("local%1.jpg"), 3);
        QCOMPARE(paths.size(), 3);
        AppSettings settings; // the embedded server alone
        settings.outputDir = dir.filePath(QStringLiteral("out"));
        settings.token = QString();
        AppOptions options;
        options.sessionFile = dir.filePath(QStringLiteral("state/session.json"));
        const QString shownName = QStringLiteral("this computer");
        quint16 firstPort = 0;
        {
            MainWindow first(settings, options);
            QTRY_VERIFY(first.isSessionRestored());
            first.addPaths(paths);
            QTRY_VERIFY_WITH_TIMEOUT(!first.parts().queue()->isBusy() && first.galleryModel()->rowCount() == 3, 120000);
            QCOMPARE(first.galleryModel()->count(GalleryItem::Status::Done), 3);
            firstPort = first.parts().embedded()->port();
            QVERIFY(firstPort != 0);
            for (int row = 0; row < 3; ++row)
                QCOMPARE(first.galleryModel()->index(row).data(GalleryModel::DeviceRole).toString(), shownName);
            QVERIFY(first.close());
        }
        // The sidecars name the embedded server, not the port it had.
        int sidecars = 0;
        const QHash<QString, int> devices = sidecarDevices(settings.outputDir, &sidecars);
        QCOMPARE(sidecars, 3);
        QCOMPARE(devices.value(DeviceSpec::embeddedLabel()), 3);

        // A sidecar written by an earlier version, naming the embedded server by its old port.
        const QString older = dir.filePath(QStringLiteral("older"));
        QVERIFY(QDir().mkpath(older));
        const QString olderImage = dir.filePath(QStringLiteral("older0.jpg"));
        QVERIFY(QFile::copy(paths.first(), olderImage));
        QJsonObject sidecar = QJsonDocument::fromJson(test::readFile(QDir(settings.outputDir).filePath(
                                                          QStringLiteral("local0.json"))))
                                  .object();
        QVERIFY(!sidecar.isEmpty());
        sidecar.insert(QStringLiteral("image"), QFileInfo(olderImage).absoluteFilePath());
        sidecar.insert(QStringLiteral("result_image"), QStringLiteral("older0.jpg"));
        sidecar.insert(QStringLiteral("device"), QStringLiteral("127.0.0.1:41234"));
        QFile olderJson(QDir(older).filePath(QStringLiteral("older0.json")));
        QVERIFY(olderJson.open(QIODevice::WriteOnly));
        olderJson.write(QJsonDocument(sidecar).toJson());
        olderJson.close();
        QVERIFY(QFile::copy(QDir(settings.outputDir).filePath(QStringLiteral("local0.jpg")),
                            QDir(older).filePath(QStringLiteral("older0.jpg"))));

        // After a restart the embedded server listens elsewhere; its results still say who made them.
        MainWindow second(settings, options);
        QTRY_VERIFY_WITH_TIMEOUT(second.isSessionRestored(), 10000);
        QCOMPARE(second.galleryModel()->rowCount(), 3);
        for (int row = 0; row < 3; ++row) {
            QCOMPARE(second.galleryModel()->item(row).device, DeviceSpec::embeddedLabel());
            QCOMPARE(second.galleryModel()->index(row).data(GalleryModel::DeviceRole).toString(), shownName);
            QVERIFY(second.galleryModel()->index(row).data(Qt::ToolTipRole).toString().contains(shownName));
        }
        second.parts().target()->ensureReady();
        QTRY_COMPARE_WITH_TIMEOUT(second.parts().embedded()->state(), EmbeddedServer::State::Running, 60000);
        qInfo() << "embedded server on port" << firstPort << "then" << second.parts().embedded()->port();

        QSignalSpy opened(&second, &MainWindow::resultsOpened);
        second.openResults(older);
        QVERIFY(opened.wait(30000));
        QCOMPARE(opened.first().at(0).toInt(), 1); // the older pair opens, boxes and all
        const int row = second.galleryModel()->rowOfPath(QFileInfo(olderImage).canonicalFilePath());
        QVERIFY(row >= 0);
        const GalleryItem &item = second.galleryModel()->item(row);
        QCOMPARE(item.status, GalleryItem::Status::Done);
        QVERIFY(item.hasDetectionData);
        QCOMPARE(item.result.detections.size(), second.galleryModel()->item(0).result.detections.size());
        // Its recorded name is shown as it is: nothing tells an old embedded port from a device.
        QCOMPARE(second.galleryModel()->index(row).data(GalleryModel::DeviceRole).toString(),
                 QStringLiteral("127.0.0.1:41234"));
        // The new sidecars open the same way.
        const ResultsFolder::Scan scan = ResultsFolder::scan(settings.outputDir);
        QCOMPARE(scan.pairs, 3);
        for (const GalleryItem &it : scan.items)
            QCOMPARE(second.galleryModel()->deviceDisplayName(it.device), shownName);
        QVERIFY(second.close());
    }

    void devicesWithDifferentModels_eachResultNamesItsModel_statusBarSaysWhichRunsWhat()
    {
        // Two devices, two models: nothing a device says about itself may stand for the other.
        const QStringList models = {QStringLiteral("nanodet-m-320"), QStringLiteral("yolo-fastest-xl-320")};
        std::vector<std::unique_ptr<DetectionServer>> servers;
        for (const QString &model : models) {
            EDGELENS_REQUIRE_SHARED(QStringLiteral("models/") + model);
            ServerConfig config = ServerConfig::embedded();
            config.workers = 1;
            config.modelPaths = {model};
            servers.push_back(std::make_unique<DetectionServer>());
            QString error;
            QVERIFY2(servers.back()->start(config, &error), qPrintable(error));
        }
        QTemporaryDir dir;
        const int count = 16;
        const QStringList paths = writeColourImages(dir, QStringLiteral("mixed%1.jpg"), count);
        AppSettings settings = remoteSettings({device(servers[0]->serverPort()), device(servers[1]->serverPort())}, dir);
        settings.maxInFlight = 1;
        MainWindow window(settings);
        window.addPaths(paths);
        QTRY_VERIFY_WITH_TIMEOUT(!window.parts().queue()->isBusy() && window.galleryModel()->rowCount() == count, 180000);
        QCOMPARE(window.galleryModel()->count(GalleryItem::Status::Done), count);

        QHash<QString, QString> modelOf{{name(servers[0]->serverPort()), models[0]},
                                        {name(servers[1]->serverPort()), models[1]}};
        QHash<QString, int> byDevice;
        for (const QString &file : test::filesUnder(settings.outputDir, {QStringLiteral("*.json")})) {
            const QJsonObject sidecar = QJsonDocument::fromJson(test::readFile(QDir(settings.outputDir).filePath(file))).object();
            const QString who = sidecar.value(QStringLiteral("device")).toString();
            QVERIFY2(modelOf.contains(who), qPrintable(who));
            QCOMPARE(sidecar.value(QStringLiteral("model")).toString(), modelOf.value(who));
            ++byDevice[who];
        }
        QCOMPARE(byDevice.value(name(servers[0]->serverPort())) + byDevice.value(name(servers[1]->serverPort())), count);
        for (int row = 0; row < count; ++row) {
            const GalleryItem &item = window.galleryModel()->item(row);
            const QString tip = window.galleryModel()->index(row).data(Qt::ToolTipRole).toString();
            QVERIFY2(tip.contains(QStringLiteral("Detected by %1 with %2").arg(item.device, modelOf.value(item.device))),
                     qPrintable(tip));
        }

        // The status bar names each device's model, and says they differ.
        QTRY_VERIFY_WITH_TIMEOUT(window.parts().status()->devicesText().contains(models[0])
                                     && window.parts().status()->devicesText().contains(models[1]),
                                 20000);
        const QString devices = window.parts().status()->devicesText();
        QVERIFY2(devices.contains(QStringLiteral("%1: up").arg(name(servers[0]->serverPort())))
                     && devices.section(name(servers[0]->serverPort()), 1).section(QStringLiteral(" \u00b7 "), 0, 0)
                            .contains(models[0]),
                 qPrintable(devices));
        QVERIFY2(window.statusText().contains(QStringLiteral("different models")), qPrintable(window.statusText()));
    }

    void embeddedLeavesWhileLoading_settingsApplyAtOnce_theDeviceFinishesTheWork()
    {
        FlakyServer dev;
        QVERIFY(dev.listen());
        Batch batch(QStringLiteral("leave%1.jpg"), 6, {device(dev.port())});
        batch.settings.embeddedJoins = true;
        MainWindow window(batch.settings);
        QCOMPARE(window.parts().embedded()->state(), EmbeddedServer::State::Starting); // loading its model
        window.addPaths(batch.paths);

        AppSettings alone = batch.settings;
        alone.embeddedJoins = false;
        QSignalSpy abandoned(window.parts().embedded(), &EmbeddedServer::abandonedStartEnded);
        // The model load goes on on its own thread; nobody waits for it (that stop() returns with
        // the load held is tst_embeddedserver's to show), and it never opens its port.
        window.applySettings(alone);
        QCOMPARE(window.parts().embedded()->state(), EmbeddedServer::State::Stopped);
        QCOMPARE(window.parts().client()->devices().size(), 1);

        QTRY_VERIFY_WITH_TIMEOUT(!window.parts().queue()->isBusy() && window.galleryModel()->rowCount() == 6, 60000);
        QCOMPARE(window.galleryModel()->count(GalleryItem::Status::Done), 6);
        for (const GalleryItem &item : window.galleryModel()->items())
            QCOMPARE(item.device, name(dev.port()));
        QTRY_COMPARE_WITH_TIMEOUT(window.parts().embedded()->retiredCount(), 0, 60000);
        for (const QList<QVariant> &ended : std::as_const(abandoned))
            QCOMPARE(ended.first().toBool(), false);
    }

    void tlsFirstUse_dialogShowsTheServersFingerprint_trustRecordsIt_andProcessingCompletes()
    {
        auto server = startServer(true);
        QVERIFY(server);
        const QString fingerprint = server->tlsFingerprint();
        QVERIFY(fingerprint.startsWith(QStringLiteral("sha256:")));
        const Batch batch(QStringLiteral("tls%1.jpg"), 3, {device(server->serverPort(), true)});
        MainWindow window(batch.settings);
        window.show();
        window.addPaths(batch.paths);

        DeviceTrustDialog *dialog = waitForTrustDialog();
        QVERIFY(dialog);
        QCOMPARE(labelText(dialog, QStringLiteral("fingerprint")), DeviceTrustDialog::displayFingerprint(fingerprint));
        QVERIFY(dialog->windowTitle().contains(name(server->serverPort())));
        QCOMPARE(receivedBytes(*server), 0.0); // nothing before the user decided
        QVERIFY(window.parts().queue()->isBusy());
        QVERIFY(press(dialog, QStringLiteral("trustButton")));

        QTRY_COMPARE_WITH_TIMEOUT(window.galleryModel()->count(GalleryItem::Status::Done), 3, 60000);
        QCOMPARE(KnownDevices().fingerprint(name(server->serverPort())).value_or(QString()), fingerprint);
        QVERIFY(QFile(KnownDevices::defaultPath()).exists());
        QVERIFY2(window.parts().status()->devicesText().contains(name(server->serverPort()) + QStringLiteral(": up, 3 done")),
                 qPrintable(window.parts().status()->devicesText()));
        QVERIFY(!openWindow<DeviceTrustDialog>(QStringLiteral("trustDeviceDialog")));
    }

    void tlsFirstUse_answeredAfterTheConnectTimeout_stillConnects()
    {
        auto server = startServer(true);
        QVERIFY(server);
        Batch batch(QStringLiteral("slowanswer%1.jpg"), 2, {device(server->serverPort(), true)});
        batch.settings.timeoutMs = 1000; // a person reads the dialog for longer than that
        MainWindow window(batch.settings);
        window.show();
        window.addPaths(batch.paths);
        DeviceTrustDialog *dialog = waitForTrustDialog();
        QVERIFY(dialog);
        // The person reads on past the connect timeout: the connection attempt ends (the
        // device counts as down once), and that must cost the images nothing.
        const DetectionClient *client = window.parts().client();
        QTRY_VERIFY_WITH_TIMEOUT(client->deviceStatuses().value(0).timesDown >= 1, 30000);
        QVERIFY2(client->deviceStatuses().value(0).lastError.contains(QStringLiteral("Timed out")),
                 qPrintable(client->deviceStatuses().value(0).lastError));
        QCOMPARE(window.galleryModel()->count(GalleryItem::Status::Failed), 0);
        QCOMPARE(openWindow<DeviceTrustDialog>(QStringLiteral("trustDeviceDialog")), dialog); // asked once
        QVERIFY(press(dialog, QStringLiteral("trustButton")));
        QTRY_COMPARE_WITH_TIMEOUT(window.galleryModel()->count(GalleryItem::Status::Done), 2, 60000);
    }

    void tlsFirstUse_refused_deviceGetsNoImage_theOtherDoesTheWork()
    {
        auto server = startServer(true);
        QVERIFY(server);
        FlakyServer plain;
        QVERIFY(listening(plain, 100));
        const Batch batch(QStringLiteral("refused%1.jpg"), 6, {device(server->serverPort(), true), device(plain.port())});
        MainWindow window(batch.settings);
        window.show();
        window.addPaths(batch.paths);

        DeviceTrustDialog *dialog = waitForTrustDialog();
        QVERIFY(dialog);
        QCOMPARE(labelText(dialog, QStringLiteral("fingerprint")), DeviceTrustDialog::displayFingerprint(server->tlsFingerprint()));
        // The question blocks nothing: the other device keeps working while it is open.
        QTRY_VERIFY_WITH_TIMEOUT(window.galleryModel()->count(GalleryItem::Status::Done) >= 2, 30000);
        QVERIFY(dialog->isVisible());
        QVERIFY(press(dialog, QStringLiteral("cancelButton")));

        QTRY_VERIFY_WITH_TIMEOUT(!window.parts().queue()->isBusy(), 60000);
        QCOMPARE(window.galleryModel()->count(GalleryItem::Status::Done), 6);
        int sidecars = 0;
        const QHash<QString, int> byDevice = sidecarDevices(batch.outDir(), &sidecars);
        QCOMPARE(sidecars, 6);
        QCOMPARE(byDevice.value(name(plain.port())), 6);
        QCOMPARE(receivedBytes(*server), 0.0);
        QVERIFY(!KnownDevices().fingerprint(name(server->serverPort())));
        QVERIFY2(window.parts().status()->devicesText().contains(name(server->serverPort()) + QStringLiteral(": untrusted")),
                 qPrintable(window.parts().status()->devicesText()));
    }

    void tlsFirstUse_refusedOnlyDevice_imagesFailWithTheReason_retryAsksAgain()
    {
        auto server = startServer(true);
        QVERIFY(server);
        const Batch batch(QStringLiteral("alone%1.jpg"), 2, {device(server->serverPort(), true)});
        MainWindow window(batch.settings);
        window.show();
        window.addPaths(batch.paths);
        DeviceTrustDialog *dialog = waitForTrustDialog();
        QVERIFY(dialog);
        QVERIFY(press(dialog, QStringLiteral("cancelButton")));
        QTRY_COMPARE_WITH_TIMEOUT(window.galleryModel()->count(GalleryItem::Status::Failed), 2, 60000);
        for (const GalleryItem &item : window.galleryModel()->items())
            QVERIFY2(item.error.contains(QStringLiteral("not trusted")), qPrintable(item.error));
        QCOMPARE(receivedBytes(*server), 0.0);
        QVERIFY(test::filesUnder(batch.outDir()).isEmpty());

        // Tools > Retry Failed puts the question again; trusted now, the images go through.
        QAction *retry = nullptr;
        for (QAction *action : window.findChildren<QAction *>()) {
            if (action->text() == QStringLiteral("&Retry Failed"))
                retry = action;
        }
        QVERIFY(retry && retry->isEnabled());
        retry->trigger();
        dialog = waitForTrustDialog();
        QVERIFY(dialog);
        QVERIFY(press(dialog, QStringLiteral("trustButton")));
        QTRY_COMPARE_WITH_TIMEOUT(window.galleryModel()->count(GalleryItem::Status::Done), 2, 60000);
    }

    void tlsChangedFingerprint_warnsWithBothFingerprints_sendsNothing_forgetThenTrustAgain()
    {
        auto server = startServer(true);
        QVERIFY(server);
        const QString offered = server->tlsFingerprint();
        const QString trusted = QStringLiteral("sha256:") + QString(64, QLatin1Char('a'));
        const QString key = name(server->serverPort());
        QVERIFY(KnownDevices().remember(key, trusted));
        const Batch batch(QStringLiteral("changed%1.jpg"), 2, {device(server->serverPort(), true)});
        MainWindow window(batch.settings);
        window.show();
        window.addPaths(batch.paths);

        DeviceTrustDialog *warning = waitForTrustDialog(QStringLiteral("fingerprintChangedDialog"));
        QVERIFY(warning);
        QCOMPARE(labelText(warning, QStringLiteral("expectedFingerprint")), DeviceTrustDialog::displayFingerprint(trusted));
        QCOMPARE(labelText(warning, QStringLiteral("offeredFingerprint")), DeviceTrustDialog::displayFingerprint(offered));
        QVERIFY(labelText(warning, QStringLiteral("message")).contains(QStringLiteral("edgelens-cli devices forget ") + key));
        // Processing on it stopped: the images fail with the loud reason, and nothing reached it.
        QTRY_COMPARE_WITH_TIMEOUT(window.galleryModel()->count(GalleryItem::Status::Failed), 2, 60000);
        QVERIFY2(window.galleryModel()->item(0).error.contains(QStringLiteral("CHANGED")),
                 qPrintable(window.galleryModel()->item(0).error));
        QCOMPARE(receivedBytes(*server), 0.0);
        QVERIFY2(window.parts().status()->devicesText().contains(key + QStringLiteral(": untrusted")),
                 qPrintable(window.parts().status()->devicesText()));
        QCOMPARE(KnownDevices().fingerprint(key).value_or(QString()), trusted); // nothing changed behind the user's back

        // "Forget the old fingerprint": the next connection asks like for a new device.
        QVERIFY(press(warning, QStringLiteral("forgetButton")));
        QVERIFY(!KnownDevices().fingerprint(key));
        window.parts().queue()->retryFailed();
        DeviceTrustDialog *ask = waitForTrustDialog();
        QVERIFY(ask);
        QCOMPARE(labelText(ask, QStringLiteral("fingerprint")), DeviceTrustDialog::displayFingerprint(offered));
        QVERIFY(press(ask, QStringLiteral("trustButton")));
        QTRY_COMPARE_WITH_TIMEOUT(window.galleryModel()->count(GalleryItem::Status::Done), 2, 60000);
        QCOMPARE(KnownDevices().fingerprint(key).value_or(QString()), offered);
    }
};

QTEST_MAIN(TestAppDevices)
#include "tst_appdevices.moc"
