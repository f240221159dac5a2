#pragma once

#include "results/annotation.h"

#include <QString>
#include <QUndoCommand>

namespace edgelens {

class DetailView;

// One undoable change to an image's annotation (move, resize, delete, add, relabel, copy,
// threshold, adopting newer model output): the whole state before and after, which for a
// few dozen boxes costs less than describing each kind of change.
class AnnotationCommand final : public QUndoCommand
{
public:
    struct State
    {
        DetectionResult model;
        Annotation annotation;
    };

    // mergeKey != 0: consecutive commands with the same key and path become one step
    // (dragging the confidence slider).
    AnnotationCommand(DetailView *view, const QString &path, const State &before, const State &after,
                      const QString &text, int mergeKey = 0);

    void undo() override;
    void redo() override;
    int id() const override { return m_mergeKey == 0 ? -1 : m_mergeKey; }
    bool mergeWith(const QUndoCommand *other) override;

private:
    DetailView *m_view;
    QString m_path;
    State m_before;
    State m_after;
    int m_mergeKey;
};

} // namespace edgelens
