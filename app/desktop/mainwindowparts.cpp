#include "mainwindowparts.h"

#include "annotationsaver.h"
#include "client/detectionclient.h"
#include "detailcontroller.h"
#include "embeddedserver.h"
#include "exportcontroller.h"
#include "imagecollector.h"
#include "processingqueue.h"
#include "sessioncontroller.h"
#include "statuspresenter.h"
#include "targetcontroller.h"
#include "trustprompter.h"

#include <QObject>

namespace edgelens {

MainWindowParts::MainWindowParts(const Gallery &gallery, const QString &sessionFile)
    : m_collector(std::make_unique<ImageCollector>())
    , m_client(std::make_unique<DetectionClient>())
    , m_queue(std::make_unique<ProcessingQueue>(gallery.model, m_client.get()))
    , m_embedded(std::make_unique<EmbeddedServer>())
    , m_status(std::make_unique<StatusPresenter>(gallery.statusBar, gallery.model, m_queue.get(), m_client.get(),
                                               m_embedded.get()))
    , m_target(std::make_unique<TargetController>(gallery.model, m_queue.get(), m_client.get(), m_embedded.get(),
                                                m_status.get()))
    , m_trust(std::make_unique<TrustPrompter>(m_client.get(), m_status.get(), gallery.window))
    , m_exporter(std::make_unique<ExportController>(gallery.model, gallery.window))
    , m_session(std::make_unique<SessionController>(gallery.model, sessionFile))
    , m_details(std::make_unique<DetailController>(gallery.model, gallery.proxy, gallery.view, gallery.window))
    , m_annotations(std::make_unique<AnnotationSaver>(gallery.model))
{
    m_queue->setThumbnailCache(gallery.thumbnails);
}

MainWindowParts::~MainWindowParts()
{
    m_collector->cancel();
    m_embedded->stop();
}

void MainWindowParts::disconnectFrom(const QObject *receiver) const
{
    const QObject *senders[] = {m_collector.get(), m_client.get(), m_queue.get(), m_embedded.get(), m_status.get(),
                                m_target.get(), m_trust.get(), m_exporter.get(), m_session.get(), m_details.get(),
                                m_annotations.get()};
    for (const QObject *sender : senders)
        QObject::disconnect(sender, nullptr, receiver, nullptr);
}

} // namespace edgelens
