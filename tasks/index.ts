import "./model";
import "./rollup";
import "./demo";
import "./bench";
