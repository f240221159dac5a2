#pragma once

// The main window's status bar: which target the app sends to, how that connection is doing
// (state, model and server version from server-info, latency, the last error), each device's
// state when there are devices (up, down, probing, untrusted, images done; from the client's
// deviceStatusChanged), and how far the current batch has got (done/total, images per second,
// time left). It only reads the queue, client and embedded server; deciding what to do about
// their state is the controllers'.

#include "client/devicespec.h"
#include "widgets/appsettings.h"

#include <QHash>
#include <QSet>

#include <QObject>
#include <QString>

class QLabel;
class QProgressBar;
class QStatusBar;
class QTimer;

namespace edgelens {

class DetectionClient;
class EmbeddedServer;
class GalleryModel;
class ProcessingQueue;

class StatusPresenter final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(StatusPresenter)

public:
    StatusPresenter(QStatusBar *bar, GalleryModel *model, ProcessingQueue *queue, DetectionClient *client,
                    EmbeddedServer *embedded, QObject *parent = nullptr);

    void setTarget(AppSettings::Target target, bool embeddedJoins = false);
    // The devices the client was given (same order as its deviceStatusChanged indexes).
    void setDevices(const QList<DeviceSpec> &devices);
    // A device whose certificate the user did not trust, or that changed: "untrusted".
    void setDeviceUntrusted(const QString &deviceKey, bool untrusted);
    void resetConnectionDetails(); // a new target: its model, latency and errors are unknown yet
    void setServerDescription(const QString &description); // model (and version) as known so far
    void showError(const QString &message); // kept in the state label until cleared
    void clearLastError();
    void setLastFailure(const QString &fileName, const QString &reason);
    void showMessage(const QString &message, int timeoutMs = 0);

    QString stateText() const; // the state label, as the user reads it
    QString targetText() const;
    // One entry per device: "pi.local:6000: up, 12 done · 10.0.0.7:6000: down"; empty for the
    // embedded server alone.
    QString devicesText() const;
    // Every enabled device is down or refused: the queue holds until one comes back.
    bool allDevicesDown() const;

    void updateProgress();
    void updateConnectionStatus();

signals:
    void windowTitleChanged(const QString &title);
    void refreshed(); // the 1 s tick: time-dependent figures were recomputed

private:
    void reportOutage(bool lost, const QString &reason);
    void updateDevices();
    QString deviceLabel(const DeviceStatus &status) const;
    // The server-info to show: the devices' own while they run one model, else which runs what.
    QString poolDescription() const;
    bool modelsDiffer() const;

    QStatusBar *m_bar;
    GalleryModel *m_model;
    ProcessingQueue *m_queue;
    DetectionClient *m_client;
    EmbeddedServer *m_embedded;

    QLabel *m_targetLabel = nullptr;
    QLabel *m_stateLabel = nullptr;
    QLabel *m_devicesLabel = nullptr;
    QLabel *m_rateLabel = nullptr;
    QProgressBar *m_progress = nullptr;
    QTimer *m_tick = nullptr;

    AppSettings::Target m_target = AppSettings::Target::Embedded;
    bool m_embeddedJoins = false;
    QList<DeviceSpec> m_devices;
    QSet<QString> m_untrusted; // device keys
    QHash<QString, QString> m_descriptions; // device (resultName) -> its server-info, described
    QHash<QString, QString> m_models;       // device (resultName) -> its default model
    QString m_serverDescription; // from server-info
    double m_latencyMs = -1;
    QString m_lastError;
    QString m_outage; // non-empty while the queue holds for a lost connection
    int m_ticks = 0;
};

} // namespace edgelens
