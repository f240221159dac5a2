#pragma once

// The main window's status bar: which target the app sends to, how that connection is doing
// (state, model and server version from server-info, latency, the last error) and how far the
// current batch has got (done/total, images per second, time left). It only reads the
// queue, client and embedded server; deciding what to do about their state is MainWindow's.

#include "widgets/appsettings.h"

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

    void setTarget(AppSettings::Target target, const QString &host, quint16 port);
    void resetConnectionDetails(); // a new target: its model, latency and errors are unknown yet
    void setServerDescription(const QString &description); // model (and version) as known so far
    void showError(const QString &message); // kept in the state label until cleared
    void clearLastError();
    void setLastFailure(const QString &fileName, const QString &reason);
    void showMessage(const QString &message, int timeoutMs = 0);

    QString stateText() const; // the state label, as the user reads it

    void updateProgress();
    void updateConnectionStatus();

signals:
    void windowTitleChanged(const QString &title);
    void refreshed(); // the 1 s tick: time-dependent figures were recomputed

private:
    void reportOutage(bool lost, const QString &reason);

    QStatusBar *m_bar;
    GalleryModel *m_model;
    ProcessingQueue *m_queue;
    DetectionClient *m_client;
    EmbeddedServer *m_embedded;

    QLabel *m_targetLabel = nullptr;
    QLabel *m_stateLabel = nullptr;
    QLabel *m_rateLabel = nullptr;
    QProgressBar *m_progress = nullptr;
    QTimer *m_tick = nullptr;

    AppSettings::Target m_target = AppSettings::Target::Embedded;
    QString m_host;
    quint16 m_port = 0;
    QString m_serverDescription; // from server-info
    double m_latencyMs = -1;
    QString m_lastError;
    QString m_outage; // non-empty while the queue holds for a lost connection
    int m_ticks = 0;
};

} // namespace edgelens
