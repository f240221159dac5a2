#include "resultsaver.h"

#include "results/resultwriter.h"

#include <QDir>
#include <QFileInfo>

namespace edgelens {

namespace {

ResultWriter writerFor(const ResultSaver::Plan &plan)
{
    ResultWriter writer(plan.outputDir);
    writer.setWriteJson(plan.jsonSidecars);
    writer.planOutputs(plan.sameBaseName);
    writer.setThresholdPolicy(plan.policy);
    return writer;
}

} // namespace

ResultSaver::Plan ResultSaver::plan(const QString &canonicalImagePath, const QString &outputDir, bool jsonSidecars,
                                    const ImageOrigin &origin)
{
    Plan p;
    p.outputDir = QDir::cleanPath(QFileInfo(outputDir).absoluteFilePath());
    p.jsonSidecars = jsonSidecars;
    p.policy = m_policy;
    const QFileInfo info(canonicalImagePath);
    p.image = ScannedImage{canonicalImagePath, info.fileName(), origin};
    const QString base = (info.completeBaseName().isEmpty() ? info.fileName() : info.completeBaseName()).toCaseFolded();
    QList<ScannedImage> &claimants = m_claims[p.outputDir][base];
    int mine = -1;
    for (int i = 0; i < claimants.size(); ++i) {
        if (claimants.at(i).absolutePath == canonicalImagePath) {
            mine = i;
            break;
        }
    }
    if (mine < 0) {
        claimants.append(p.image);
        mine = int(claimants.size()) - 1;
    }
    // Only those before it matter for its name; a re-run gets the name it had the first time.
    // (A re-run never replaces a person's corrections: ResultWriter keeps them.)
    p.sameBaseName = claimants.mid(0, mine + 1);
    const ResultWriter writer = writerFor(p);
    p.imagePath = writer.imageOutputPath(p.image);
    p.sidecarPath = writer.jsonOutputPath(p.image);
    return p;
}

ResultSaver::Outcome ResultSaver::save(const Plan &plan, const ClientResult &result)
{
    Outcome out;
    const ResultWriter writer = writerFor(plan);
    if (!writer.write(plan.image, result, &out.error, &out.keptCorrections))
        return out;
    if (!result.jpeg.isEmpty() || out.keptCorrections)
        out.imagePath = plan.imagePath;
    if (plan.jsonSidecars || out.keptCorrections)
        out.sidecarPath = plan.sidecarPath;
    return out;
}

} // namespace edgelens
