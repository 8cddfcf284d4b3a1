// The shipped language models, loaded once when the module is first imported (a few milliseconds).
import deData from './data/de.json' with { type: 'json' };
import enData from './data/en.json' with { type: 'json' };
import esData from './data/es.json' with { type: 'json' };
import frData from './data/fr.json' with { type: 'json' };
import { type LanguageModel, type ModelData, loadModel } from './model.ts';

export const MODELS: ReadonlyMap<string, LanguageModel> = new Map(
  [enData, frData, deData, esData].map((data) => {
    const model = loadModel(data as ModelData);
    return [model.language, model];
  }),
);

export const SUPPORTED_LANGUAGES: readonly string[] = [...MODELS.keys()];
